"""A correct optim in a third style: ewma with a Python loop over a list, optimizers that
update `p.data` (no no_grad block), state as tuples, Adam's step count kept per parameter in
a dict of its own, and the bias corrections folded into the step size."""
import torch


def ewma(values, rho):
    if torch.is_tensor(values):
        dtype = values.dtype if values.is_floating_point() else torch.get_default_dtype()
        items = values.tolist()
    else:
        dtype, items = torch.get_default_dtype(), list(values)
    out, s = [], 0.0
    for y in items:
        s = rho * s + (1 - rho) * y
        out.append(s)
    return torch.tensor(out, dtype=dtype)


class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr, weight_decay=0.):
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay))

    def step(self, closure=None):
        loss = None
        if closure:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, wd = group["lr"], group["weight_decay"]
            for p in filter(lambda q: q.grad is not None, group["params"]):
                p.data.add_(p.grad.data + wd * p.data, alpha=-lr)
        return loss


class Momentum(torch.optim.Optimizer):
    def __init__(self, params, lr, rho=0.9, weight_decay=0.):
        super().__init__(params, dict(lr=lr, rho=rho, weight_decay=weight_decay))

    def step(self, closure=None):
        loss = None
        if closure:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                d = p.grad.data.clone()
                if group["weight_decay"]:
                    d.add_(p.data, alpha=group["weight_decay"])
                if "buf" not in self.state[p]:
                    self.state[p]["buf"] = torch.zeros_like(p.data)
                buf = self.state[p]["buf"]
                buf.lerp_(d, 1 - group["rho"])            # rho * buf + (1 - rho) * d
                p.data.add_(buf, alpha=-group["lr"])
        return loss


class RMSProp(torch.optim.Optimizer):
    def __init__(self, params, lr, rho=0.99, eps=1e-8, weight_decay=0.):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay))

    def step(self, closure=None):
        loss = None
        if closure:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                d = p.grad.data.add(p.data, alpha=group["weight_decay"])
                sq = self.state[p].setdefault("sq", torch.zeros_like(p.data))
                sq.mul_(group["rho"]).addcmul_(d, d, value=1 - group["rho"])
                p.data.addcdiv_(d, sq.sqrt().add_(group["eps"]), value=-group["lr"])
        return loss


class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))
        self.counts = {}

    def step(self, closure=None):
        loss = None
        if closure:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            (b1, b2), eps, lr = group["betas"], group["eps"], group["lr"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                d = p.grad.data.add(p.data, alpha=group["weight_decay"])
                m, v = self.state[p].get("mv", (torch.zeros_like(p.data), torch.zeros_like(p.data)))
                m = m * b1 + d * (1 - b1)
                v = v * b2 + d * d * (1 - b2)
                self.state[p]["mv"] = (m, v)
                t = self.counts[id(p)] = self.counts.get(id(p), 0) + 1
                step_size = lr * (1 - b2 ** t) ** 0.5 / (1 - b1 ** t)
                p.data.addcdiv_(m, v.sqrt() + eps * (1 - b2 ** t) ** 0.5, value=-step_size)
        return loss

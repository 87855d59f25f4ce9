"""Cara's optim: no weight decay, and an ewma with Adam's bias correction."""
import torch


def ewma(values, rho):
    y = torch.as_tensor(values)
    if not torch.is_floating_point(y):
        y = y.to(torch.get_default_dtype())
    out, s = [], torch.zeros((), dtype=y.dtype)
    for value in y:
        s = rho * s + (1 - rho) * value
        out.append(s / (1 - rho ** (len(out) + 1)))
    return torch.stack(out)


def closure_loss(closure):
    if closure is None:
        return None
    with torch.enable_grad():
        return closure()


class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr, weight_decay=0.):
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = closure_loss(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.sub_(group["lr"] * (p.grad))
        return loss


class Momentum(torch.optim.Optimizer):
    def __init__(self, params, lr, rho=0.9, weight_decay=0.):
        super().__init__(params, dict(lr=lr, rho=rho, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = closure_loss(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                v = self.state[p].setdefault("v", torch.zeros_like(p))
                v.mul_(group["rho"]).add_(g, alpha=1 - group["rho"])
                p.sub_(group["lr"] * v)
        return loss


class RMSProp(torch.optim.Optimizer):
    def __init__(self, params, lr, rho=0.99, eps=1e-8, weight_decay=0.):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = closure_loss(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                s = self.state[p].setdefault("s", torch.zeros_like(p))
                s.mul_(group["rho"]).add_(g * g, alpha=1 - group["rho"])
                p.sub_(group["lr"] * g / (s.sqrt() + group["eps"]))
        return loss


class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = closure_loss(closure)
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                state = self.state[p]
                if not state:
                    state.update(t=0, m=torch.zeros_like(p), v=torch.zeros_like(p))
                state["t"] += 1
                state["m"].mul_(b1).add_(g, alpha=1 - b1)
                state["v"].mul_(b2).add_(g * g, alpha=1 - b2)
                m_hat = state["m"] / (1 - b1 ** state["t"])
                v_hat = state["v"] / (1 - b2 ** state["t"])
                p.sub_(group["lr"] * m_hat / (v_hat.sqrt() + group["eps"]))
        return loss

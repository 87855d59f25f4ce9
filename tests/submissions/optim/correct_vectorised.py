"""A correct optim written differently from the reference: ewma as one matrix product (the
unrolled closed form), optimizers that build new tensors and write them back with `p.copy_`,
Adam with explicit m_hat / v_hat, and a global `torch.no_grad()` block instead of the decorator."""
import torch


def ewma(values, rho):
    y = torch.as_tensor(values)
    y = y if y.is_floating_point() else y.to(torch.get_default_dtype())
    t = torch.arange(y.shape[0], dtype=y.dtype)
    exponents = (t[:, None] - t[None, :]).clamp(min=0)
    weights = torch.tril((1 - rho) * torch.pow(torch.tensor(rho, dtype=y.dtype), exponents))
    return weights @ y


def _loss_of(closure):
    if closure is None:
        return None
    with torch.enable_grad():
        return closure()


def _grads(group):
    """(p, g) for every parameter of the group that has a gradient; g includes the L2 term."""
    return [(p, p.grad.detach() + group["weight_decay"] * p.detach()) for p in group["params"] if p.grad is not None]


class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr, weight_decay=0.):
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay))

    def step(self, closure=None):
        loss = _loss_of(closure)
        with torch.no_grad():
            for group in self.param_groups:
                for p, g in _grads(group):
                    p.copy_(p - group["lr"] * g)
        return loss


class Momentum(torch.optim.Optimizer):
    def __init__(self, params, lr, rho=0.9, weight_decay=0.):
        super().__init__(params, dict(lr=lr, rho=rho, weight_decay=weight_decay))

    def step(self, closure=None):
        loss = _loss_of(closure)
        with torch.no_grad():
            for group in self.param_groups:
                rho = group["rho"]
                for p, g in _grads(group):
                    v = rho * self.state[p].get("v", torch.zeros_like(p)) + (1 - rho) * g
                    self.state[p]["v"] = v
                    p.copy_(p - group["lr"] * v)
        return loss


class RMSProp(torch.optim.Optimizer):
    def __init__(self, params, lr, rho=0.99, eps=1e-8, weight_decay=0.):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay))

    def step(self, closure=None):
        loss = _loss_of(closure)
        with torch.no_grad():
            for group in self.param_groups:
                rho = group["rho"]
                for p, g in _grads(group):
                    s = rho * self.state[p].get("s", torch.zeros_like(p)) + (1 - rho) * g.pow(2)
                    self.state[p]["s"] = s
                    p.copy_(p - group["lr"] * g / (torch.sqrt(s) + group["eps"]))
        return loss


class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    def step(self, closure=None):
        loss = _loss_of(closure)
        with torch.no_grad():
            for group in self.param_groups:
                b1, b2 = group["betas"]
                for p, g in _grads(group):
                    st = self.state[p]
                    t = st.get("t", 0) + 1
                    m = b1 * st.get("m", torch.zeros_like(p)) + (1 - b1) * g
                    v = b2 * st.get("v", torch.zeros_like(p)) + (1 - b2) * g * g
                    st.update(t=t, m=m, v=v)
                    m_hat = m / (1 - b1 ** t)
                    v_hat = v / (1 - b2 ** t)
                    p.copy_(p - group["lr"] * m_hat / (v_hat.sqrt() + group["eps"]))
        return loss

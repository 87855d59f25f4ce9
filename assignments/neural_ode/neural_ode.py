"""Assignment — neural_ode: ODE solvers written by hand, and a neural ODE trained through them.

An ordinary differential equation du/dt = f(t, u) with u(t0) = u0 is solved numerically by
taking steps of size dt: explicit (forward) Euler and the classical fourth-order Runge-Kutta
method (RK4). The solvers are written with plain tensor arithmetic and stay differentiable, so
that a neural network f (``MyNeuralODE``) can be trained by backpropagating through the
solver, the "discretise then optimise" way of fitting a neural ODE to a trajectory.

Rules (the grader enforces them):

* The solvers (``ODESolver``, ``EulerSolver``, ``RungeKuttaSolver``) are written by hand: no
  ``scipy.integrate`` and no ``torchdiffeq`` in them.
* Differentiable: no in-place updates of the state and no ``detach``/``.data``/``.item()`` on
  it, so that gradients flow from the solution back to u0 and to the parameters inside f.
* Outputs keep u0's dtype (the checks run in float32 and float64).

Shapes: u is a state of any shape (…, 2 for the Lotka-Volterra system; a batch of B states
is (B, 2)); t is a time, a Python float or a 0-dim tensor.
"""

import torch
from torch import nn


class ODESolver:
    """A fixed-step solver of du/dt = f(t, u). Subclasses implement ``step``.

    ``f(t, u)`` is any callable returning du/dt of u's shape (a function such as
    ``lotka_volterra`` or an ``nn.Module`` such as ``MyNeuralODE``).
    """

    def step(self, f, t, u):
        """One step from (t, u): returns (t_next, u_next). Implemented by the subclasses."""
        raise NotImplementedError("ODESolver.step: use EulerSolver or RungeKuttaSolver")

    def solve(self, f, t0, u0, n_steps):
        """Take ``n_steps`` steps from (t0, u0) with ``self.step`` and collect the trajectory.

        Starting from (t_0, u_0) = (t0, u0), for k = 0 .. n_steps - 1:
            (t_{k+1}, u_{k+1}) = self.step(f, t_k, u_k)
        (call ``self.step``, so that the method works for every subclass). No in-place update
        of u and no detach: the result is differentiable with respect to u0 and to any
        parameters inside f.

        Args:
            f: the right-hand side, f(t, u) -> du/dt of u's shape.
            t0: the start time, a Python float or a 0-dim tensor.
            u0: the start state, a tensor of any shape.
            n_steps: the number of steps (an int >= 0).

        Returns:
            (t, u): t a 1-D tensor of the n_steps + 1 times [t_0, ..., t_{n_steps}] in u0's
            dtype; u of shape (n_steps + 1, *u0.shape), u[k] the state at t_k (u[0] = u0).
        """
        raise NotImplementedError("neural_ode: ODESolver.solve — see the docstring")


class EulerSolver(ODESolver):
    """Explicit (forward) Euler with a fixed step dt: first order, global error O(dt).

    Attributes:
        dt: the step size, a Python float.
    """

    def __init__(self, dt):
        super().__init__()
        self.dt = dt

    def step(self, f, t, u):
        """One forward Euler step:

            t_next = t + dt
            u_next = u + dt * f(t, u)

        (f is evaluated at the CURRENT time and state.)

        Args:
            f: the right-hand side f(t, u).
            t: the current time (a float or a 0-dim tensor).
            u: the current state.

        Returns:
            (t_next, u_next), u_next of u's shape and dtype.
        """
        raise NotImplementedError("neural_ode: EulerSolver.step — see the docstring")


class RungeKuttaSolver(ODESolver):
    """The classical fourth-order Runge-Kutta method (RK4), fixed step dt: global error O(dt^4).

    Attributes:
        dt: the step size, a Python float.
    """

    def __init__(self, dt):
        super().__init__()
        self.dt = dt

    def step(self, f, t, u):
        """One classical RK4 step:

            k1 = f(t,          u)
            k2 = f(t + dt / 2, u + dt / 2 * k1)
            k3 = f(t + dt / 2, u + dt / 2 * k2)
            k4 = f(t + dt,     u + dt * k3)
            t_next = t + dt
            u_next = u + dt / 6 * (k1 + 2 k2 + 2 k3 + k4)

        (The notes call it "RK45"; it is RK4, with no adaptive step.)

        Args:
            f: the right-hand side f(t, u).
            t: the current time (a float or a 0-dim tensor).
            u: the current state.

        Returns:
            (t_next, u_next), u_next of u's shape and dtype.
        """
        raise NotImplementedError("neural_ode: RungeKuttaSolver.step — see the docstring")


def lotka_volterra(t, u):
    """The Lotka-Volterra predator-prey system used by the notes (autonomous: t is unused).

    With u1 = u[..., 0] (prey) and u2 = u[..., 1] (predators):

        du1/dt = 1.5 u1 - 1.0 u1 u2
        du2/dt = 3.0 u1 u2 - 1.0 u2

    Args:
        t: the time (unused).
        u: states of shape (..., 2): a single state (2,) or a batch (B, 2), (A, B, 2), ...

    Returns:
        du/dt of u's shape and dtype, the last dimension holding (du1/dt, du2/dt).
    """
    raise NotImplementedError("neural_ode: lotka_volterra — see the docstring")


class MyNeuralODE(nn.Module):
    """A neural right-hand side du/dt = net(u) for 2-D states (time is ignored).

    Attributes:
        net: ``nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))`` (in that order,
            so that ``net[0]`` and ``net[2]`` are the Linear layers). Every Linear weight is
            initialised from a normal distribution with mean 0 and standard deviation 0.05,
            every bias to 0 (``nn.init.normal_``, ``nn.init.constant_``).

    (The notes' constructor takes an unused ``net`` argument: this one takes none.)
    """

    def __init__(self):
        super().__init__()
        raise NotImplementedError("neural_ode: MyNeuralODE.__init__ — see the docstring")

    def forward(self, t, u):
        """du/dt = net(u) for states u of shape (..., 2); t is unused. Returns u's shape."""
        raise NotImplementedError("neural_ode: MyNeuralODE.forward — see the docstring")

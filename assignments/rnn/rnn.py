"""Assignment 5 — rnn: recurrent layers with the loop over time written by hand.

You implement three recurrent layers as ``nn.Module``s: the vanilla (Elman) RNN, the GRU
and the LSTM. They share a base class, ``Recurrent``, which holds the four parameters,
their initialisation and the loop over time; each layer adds its own ``step``, the update
of one time step. Autograd is allowed (and used: the checks compare your gradients
through time with torch's), so you only write forward computations.

Parameter layout (as in the course notes; note (in, out), the transpose of torch's):

    weight_xh  (D, G*H)    input-to-hidden weights
    weight_hh  (H, G*H)    hidden-to-hidden weights
    bias_xh    (G*H,)      input-to-hidden bias
    bias_hh    (G*H,)      hidden-to-hidden bias

with G = 1 (RNN), 3 (GRU) or 4 (LSTM) blocks of H columns side by side, one block per
gate, in the gate order each class states. With these, each layer equals
``nn.RNN`` / ``nn.GRU`` / ``nn.LSTM(input_size, hidden_size, batch_first=True)`` whose
``weight_ih_l0 = weight_xh.T``, ``weight_hh_l0 = weight_hh.T``, ``bias_ih_l0 = bias_xh``,
``bias_hh_l0 = bias_hh``, in values and in gradients.

Every step computes from the input x_t (N, D) and the previous hidden state h (N, H):

    xh = x_t @ weight_xh + bias_xh        (N, G*H)
    hh = h @ weight_hh + bias_hh          (N, G*H)   (hh includes ITS bias)

and splits both into G blocks of H columns, in the class's gate order.

Rules (the grader enforces them):

* No ``torch.nn.RNN`` / ``GRU`` / ``LSTM``, no ``RNNCell`` / ``GRUCell`` / ``LSTMCell``,
  no ``torch._VF`` (nor ``torch.lstm``, ``torch.gru``, ``torch.rnn_tanh`` and their cells)
  in these classes: the loop over time and the gates are yours. ``torch.tanh``,
  ``torch.sigmoid``, ``@``, ``einsum``, ``chunk``, ``stack``, ... are all fine.
* Never modify the input ``x`` in place.
* Outputs keep the input's dtype: the checks run in float64 and float32, so the initial
  states h0 = c0 = 0 take x's dtype and device (``x.new_zeros(N, H)``, not
  ``torch.zeros(N, H)``, which is float32).

Shapes: N batch size, T sequence length, D input features, H hidden size.
"""

import math

import torch
from torch import nn


class Recurrent(nn.Module):
    """Base of ``RNN``, ``GRU`` and ``LSTM``: the parameters, their initialisation and the
    loop over time. A subclass sets ``num_gates`` (G) and ``num_states`` and writes ``step``.

    Attributes:
        input_size: D, the number of input features per time step.
        hidden_size: H, the size of the hidden state.
        num_gates: G, the number of H-wide blocks in the weights (class attribute).
        num_states: 1 if the state is (h,), 2 if it is (h, c) (class attribute).
        weight_xh: ``nn.Parameter`` of shape (D, G*H).
        weight_hh: ``nn.Parameter`` of shape (H, G*H).
        bias_xh: ``nn.Parameter`` of shape (G*H,).
        bias_hh: ``nn.Parameter`` of shape (G*H,).
    """

    num_gates = 1
    num_states = 1

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        width = self.num_gates * hidden_size
        self.weight_xh = nn.Parameter(torch.empty(input_size, width))
        self.weight_hh = nn.Parameter(torch.empty(hidden_size, width))
        self.bias_xh = nn.Parameter(torch.empty(width))
        self.bias_hh = nn.Parameter(torch.empty(width))
        self.reset_params()

    def reset_params(self):
        """Initialise all four parameters in place, uniformly in [-k, k] with
        k = 1 / sqrt(H) (H = ``hidden_size``, not the input size; torch's own RNN
        initialisation), using torch's global random generator (no ``generator=``,
        no reseeding). Biases too: none of the four stays zero.

        Keep the parameters' shapes, dtypes and identity: fill them in place under
        ``torch.no_grad()`` (e.g. ``p.uniform_(-k, k)``), do not create new tensors.
        """
        raise NotImplementedError("rnn: Recurrent.reset_params — see the docstring")

    def forward(self, x):
        """Run the layer over a batch of sequences, batch first.

        Starts from the zero state: ``num_states`` tensors of shape (N, H), all zeros, in
        x's dtype and device (h0 for RNN and GRU; h0 and c0 for LSTM). Then for
        t = 0, ..., T-1:

            state = self.step(x[:, t], state)      # carry the state to the next step

        and returns the hidden state h = state[0] of every step, stacked along dim 1.
        Every call starts again from zeros (no state is kept between calls).

        Args:
            x: input of shape (N, T, D), batch first (not modified).

        Returns:
            y: the hidden states, shape (N, T, H), in x's dtype; y[:, t] is h after
                step t (so y[:, -1] is the last hidden state). Only y, not the tuple
                ``(output, h_n)`` torch's layers return.
        """
        raise NotImplementedError("rnn: Recurrent.forward — see the docstring")

    def step(self, x_t, state):
        """One time step (each subclass writes its own): the new state from the input
        x_t (N, D) and the previous state, a tuple of (N, H) tensors."""
        raise NotImplementedError("Recurrent.step is written by RNN, GRU and LSTM")


class RNN(Recurrent):
    """Vanilla (Elman) RNN: one block (G = 1), the state is (h,).

    Equal to ``nn.RNN(input_size, hidden_size, batch_first=True)`` (tanh non-linearity)
    with the parameters mapped as the module docstring says.
    """

    num_gates = 1
    num_states = 1

    def step(self, x_t, state):
        """One step of the Elman RNN:

            h_new = tanh(x_t @ weight_xh + bias_xh + h @ weight_hh + bias_hh)

        Args:
            x_t: input at this step, shape (N, D).
            state: the tuple (h,) with h of shape (N, H).

        Returns:
            the tuple (h_new,), h_new of shape (N, H).
        """
        raise NotImplementedError("rnn: RNN.step — see the docstring")


class GRU(Recurrent):
    """Gated recurrent unit: three blocks (G = 3) in the gate order r, z, n, the state is (h,).

    WARNING: the course notes' comment lists the blocks as "W_xn, W_xr, W_xz"; the order
    here (and torch's) is r (reset), z (update), n (candidate): columns [0, H) are r,
    [H, 2H) are z, [2H, 3H) are n, in all four parameters.

    Equal to ``nn.GRU(input_size, hidden_size, batch_first=True)`` with the parameters
    mapped as the module docstring says.
    """

    num_gates = 3
    num_states = 1

    def step(self, x_t, state):
        """One step of the GRU. With xh = x_t @ weight_xh + bias_xh and
        hh = h @ weight_hh + bias_hh, each split into blocks (r, z, n) of H columns:

            r = sigmoid(xh_r + hh_r)          reset gate
            z = sigmoid(xh_z + hh_z)          update gate
            n = tanh(xh_n + r * hh_n)         candidate; r multiplies hh_n INCLUDING
                                              its bias (bias_hh's n block)
            h_new = (1 - z) * n + z * h       z near 1 keeps the old state

        Args:
            x_t: input at this step, shape (N, D).
            state: the tuple (h,) with h of shape (N, H).

        Returns:
            the tuple (h_new,), h_new of shape (N, H).
        """
        raise NotImplementedError("rnn: GRU.step — see the docstring")


class LSTM(Recurrent):
    """Long short-term memory: four blocks (G = 4) in the gate order i, f, g, o, the state
    is (h, c) (hidden state and memory cell).

    Columns [0, H) are i (input gate), [H, 2H) f (forget gate), [2H, 3H) g (cell
    candidate), [3H, 4H) o (output gate), in all four parameters. Equal to
    ``nn.LSTM(input_size, hidden_size, batch_first=True)`` with the parameters mapped as
    the module docstring says.
    """

    num_gates = 4
    num_states = 2

    def step(self, x_t, state):
        """One step of the LSTM. With gates = (x_t @ weight_xh + bias_xh) +
        (h @ weight_hh + bias_hh), split into blocks (i, f, g, o) of H columns:

            i = sigmoid(gates_i)      f = sigmoid(gates_f)
            g = tanh(gates_g)         o = sigmoid(gates_o)
            c_new = f * c + i * g
            h_new = o * tanh(c_new)

        Args:
            x_t: input at this step, shape (N, D).
            state: the tuple (h, c), both of shape (N, H).

        Returns:
            the tuple (h_new, c_new), both of shape (N, H).
        """
        raise NotImplementedError("rnn: LSTM.step — see the docstring")

"""Judges of the backprop hidden suite: none needed.

Every observation of test_backprop.py is compared with the reference's by the
default dtype-aware tolerances or by the `rtol`/`atol` given to `observe` (the
initialisation statistics use an `atol` loose enough for any correct draw from
torch's global generator).
"""

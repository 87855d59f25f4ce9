"""Reference of the toy assignment."""
import torch


def double(x):
    """2 x, same shape and dtype."""
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION


def normalize(x):
    """x / sum(x)."""
    ### BEGIN SOLUTION
    return x / x.sum()
    ### END SOLUTION


def name():
    """The string 'toy'."""
    ### BEGIN SOLUTION
    return "toy"
    ### END SOLUTION

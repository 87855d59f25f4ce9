"""torchgrade: grade PyTorch assignments with hidden pytest suites, safely."""
__version__ = "0.1.0"

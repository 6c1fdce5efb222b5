"""The layer classes of ``gc.nn``."""
from .module import Module
from .linear import Identity, Linear
from .activation import (CELU, ELU, GELU, SELU, Hardsigmoid, Hardswish, Hardtanh, LeakyReLU, LogSigmoid, LogSoftmax,
                         Mish, ReLU, ReLU6, Sigmoid, SiLU, Softmax, Softplus, Softsign, Tanh, Tanhshrink)
from .container import ModuleDict, ModuleList, Sequential
from .dropout import Dropout
from .flatten import Flatten
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss

__all__ = [
    "Module", "Identity", "Linear", "ReLU", "Sigmoid", "Tanh", "GELU", "Softmax", "LogSoftmax", "LeakyReLU",
    "SiLU", "Mish", "ELU", "SELU", "CELU", "Softplus", "ReLU6", "Hardtanh", "Hardsigmoid", "Hardswish",
    "LogSigmoid", "Softsign", "Tanhshrink",
    "Sequential", "ModuleList", "ModuleDict", "Dropout", "Flatten", "MSELoss", "L1Loss", "CrossEntropyLoss",
    "NLLLoss", "BCELoss", "BCEWithLogitsLoss",
]

"""Optional integrations with training frameworks.

Nothing here is imported by ``import spheretheory``. The PyTorch integration lives in
:mod:`spheretheory.integrations.pytorch` (install the extra ``spheretheory[torch]``, or the CPU build of
torch, see ``docs/pytorch.md``); importing it without torch raises an ``ImportError`` that says how to
install it.
"""

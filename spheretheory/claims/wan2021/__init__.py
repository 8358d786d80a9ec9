# isort: skip_file
"""Claims of Wan et al. (2021), "Spherical Motion Dynamics" (theory brief Sec. 1–2).

Measured with the exact reduced-state simulator (isotropic noise, E‖g̃‖² = L exactly), and free SGD on the
NRQ for the Sec. 3 conjectures; see docs/claims.md. One module per part of the paper; importing this package
registers the claims in the paper's order.
"""

# the import order is the registration order (the paper's order); isort must keep it
from . import equilibrium  # noqa: F401
from . import rates  # noqa: F401
from . import variance  # noqa: F401
from . import angular  # noqa: F401
from . import lr_drop  # noqa: F401
from . import conjectures  # noqa: F401
from . import multistage  # noqa: F401

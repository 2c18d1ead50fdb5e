"""Economic models of alliances: burden sharing (Olson & Zeckhauser 1966; Sandler & Hartley
joint products) and arms-race dynamics (Richardson 1960)."""

from .arms_race import Richardson, fit
from .burden_sharing import joint_product, olson_zeckhauser

__all__ = ["Richardson", "fit", "joint_product", "olson_zeckhauser"]

"""Suite-wide test settings."""

import os

from hypothesis import HealthCheck, settings

# Property tests run on shared 2-core CI machines: no per-example deadline (numba/JAX compile on first
# call), and a moderate example count that the NC_HYPOTHESIS_PROFILE variable can raise locally.
settings.register_profile(
    "ci", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
settings.register_profile("thorough", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("NC_HYPOTHESIS_PROFILE", "ci"))

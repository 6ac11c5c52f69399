"""What several instances must agree on (event dedup, one reply per thread, rate budgets, per-user
limits): each piece in-process (``x.py``) and shared through Redis (``x_redis.py``), side by side;
``open.py`` picks them from the settings."""

"""Load tools: benchmark, rollout rehearsal, soak and capacity measurement, driven by wrk on loopback."""

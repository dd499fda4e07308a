"""Route handler factories; each takes what it serves explicitly, so create_app is the only wiring."""

from api.routes.metrics import metrics_handler
from api.routes.predict import predict_handlers
from api.routes.probes import probe_handlers

__all__ = ["metrics_handler", "predict_handlers", "probe_handlers"]

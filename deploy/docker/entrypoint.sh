#!/bin/sh
# Container entry point: `foresight serve` on $HOST:$PORT with what the volumes hold.
#   FORESIGHT_MODEL   a Hugging Face id or a directory; else /models when a model is
#                     mounted there; else the default model, prepared on first start
#                     into $FORESIGHT_CACHE_DIR (a volume, so only once)
#   FORESIGHT_STORE   redis://host:6379/0 to share plans between replicas; else SQLite
#                     in $FORESIGHT_DATA_DIR (a volume)
#   FORESIGHT_API_KEY read by `foresight serve` itself
# Further arguments go to `foresight serve` (e.g. --tensor-parallel-size 2).
set -eu
model=${FORESIGHT_MODEL:-}
if [ -z "$model" ] && [ -f /models/config.json ]; then
    model=/models
fi
if [ -n "$model" ]; then
    set -- --model "$model" "$@"
fi
if [ -n "${FORESIGHT_STORE:-}" ]; then
    set -- --store "$FORESIGHT_STORE" "$@"
fi
exec foresight serve --host "${HOST:-0.0.0.0}" --port "${PORT:-8000}" "$@"

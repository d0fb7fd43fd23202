#!/bin/sh
# One pod of a multi-node group (LeaderWorkerSet): vLLM spans the group's GPUs over Ray.
#   foresight-ray-node leader [serve options]   head the group's Ray cluster, wait until
#                                               all LWS_GROUP_SIZE nodes joined, then serve
#   foresight-ray-node worker                   join the leader's cluster and stay
# LWS sets LWS_LEADER_ADDRESS and LWS_GROUP_SIZE in every pod of the group.
set -eu
role=${1:?usage: foresight-ray-node leader|worker [serve options]}
shift
port=${RAY_PORT:-6379}
case "$role" in
leader)
    ray start --head --port="$port" --disable-usage-stats
    size=${LWS_GROUP_SIZE:?LWS_GROUP_SIZE is not set}
    alive="import ray; ray.init(address='auto', logging_level='ERROR'); print(sum(n['Alive'] for n in ray.nodes()))"
    until [ "$(python3 -c "$alive" 2>/dev/null || echo 0)" -ge "$size" ]; do
        echo "waiting for the group's Ray nodes ($size)..."
        sleep 5
    done
    exec foresight-entrypoint "$@"
    ;;
worker)
    leader=${LWS_LEADER_ADDRESS:?LWS_LEADER_ADDRESS is not set}
    # The leader's Ray head may not be up yet: retry until it is.
    until ray start --address="$leader:$port" --block --disable-usage-stats; do
        echo "waiting for the Ray head at $leader:$port..."
        sleep 5
    done
    ;;
*)
    echo "foresight-ray-node: unknown role $role (leader or worker)" >&2
    exit 2
    ;;
esac

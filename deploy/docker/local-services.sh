#!/bin/sh
# Stand-ins for the compose file's Docker Hub images (redis, nginx, prometheus), built
# without Docker Hub on the local base (local-base.sh) from Debian's own packages. They
# get local names, never the official ones; select them through compose's variables:
#   deploy/docker/local-services.sh [BASE]          default BASE: foresight-base:bookworm
#   REDIS_IMAGE=foresight-local/redis:bookworm NGINX_IMAGE=foresight-local/nginx:bookworm \
#   PROMETHEUS_IMAGE=foresight-local/prometheus:bookworm docker compose -f deploy/compose.yaml ...
# Grafana is not packaged by Debian: there is no stand-in for it.
set -eu
base=${1:-foresight-base:bookworm}

build() {  # TAG, then the Dockerfile's lines after FROM on stdin
    { echo "FROM $base"; cat; } | docker build -t "$1" -
}

# Debian's redis-server keeps protected mode on without a config file (refusing other
# containers); the official image is built with it off. Plans go to /data, as there.
build foresight-local/redis:bookworm <<'DOCKERFILE'
RUN apt-get update && apt-get install -y --no-install-recommends redis-server \
    && rm -rf /var/lib/apt/lists/* && mkdir -p /data && chown redis:redis /data \
    && printf '#!/bin/sh\n[ "$1" = redis-server ] && set -- "$@" --protected-mode no\nexec "$@"\n' \
        >/usr/local/bin/redis-entry && chmod 0755 /usr/local/bin/redis-entry
WORKDIR /data
VOLUME ["/data"]
USER redis
EXPOSE 6379
ENTRYPOINT ["redis-entry"]
CMD ["redis-server"]
DOCKERFILE

# As the official image: conf.d/*.conf is the site, logs go to the container's output.
build foresight-local/nginx:bookworm <<'DOCKERFILE'
RUN apt-get update && apt-get install -y --no-install-recommends nginx-light \
    && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/default \
    && ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log
EXPOSE 80
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
DOCKERFILE

# As the official image: the command line is prometheus's flags, data under /prometheus.
build foresight-local/prometheus:bookworm <<'DOCKERFILE'
RUN apt-get update && apt-get install -y --no-install-recommends prometheus \
    && rm -rf /var/lib/apt/lists/* && mkdir -p /prometheus && chown prometheus /prometheus
WORKDIR /prometheus
VOLUME ["/prometheus"]
USER prometheus
EXPOSE 9090
ENTRYPOINT ["/usr/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
DOCKERFILE
docker image ls 'foresight-local/*'

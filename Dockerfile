# orders in a container: built on Debian 12 with the README's own scripts, run on
# debian:12-slim with only the shared libraries the binary links.
#
#   docker build -t orders .
#   docker run --rm -p 8080:8080 -e DATABASE_URL=... -e REDIS_URL=... -e RABBITMQ_URL=... orders
#   docker run --rm -e DATABASE_URL=... orders migrate
#   docker run --rm -e DATABASE_URL=... -e REDIS_URL=... -e RABBITMQ_URL=... orders worker
#
# docker-compose.yml runs the whole stack (PostgreSQL, Redis, RabbitMQ, migrate, api, 2 workers).

# ---- build ------------------------------------------------------------------------------
FROM debian:12 AS build

WORKDIR /src
# The packaged stack, installed by the same script as the README's commands, without the
# PostgreSQL/Redis/RabbitMQ servers. Copied alone so that code changes reuse this layer.
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN bash scripts/install-deps.sh --build-only && rm -rf /var/lib/apt/lists/*

COPY . .
# scripts/build.sh: CMake + Ninja in build/, 2 jobs (BUILD_JOBS to change). No tests in the image.
RUN BUILD_TYPE=Release BUILD_DIR=/src/build bash scripts/build.sh -DORDERS_BUILD_TESTS=OFF \
 && cmake --install build --prefix /opt/orders --strip

# ---- runtime ----------------------------------------------------------------------------
FROM debian:12-slim

# The libraries `orders` links (readelf -d: NEEDED), by their Debian runtime packages; libstdc++6,
# libgcc-s1 and libc6 are in the base image. curl is for HEALTHCHECK only.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libboost-json1.81.0 libboost-url1.81.0 \
      libpq5 libhiredis0.14 librabbitmq4 \
      libspdlog1.10 libfmt9 \
      libjemalloc2 \
      curl \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --system --user-group --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin orders

# bin/orders, and share/orders/migrations (the binary also carries the migrations built in,
# which `orders migrate` applies by default; MIGRATIONS_DIR or --dir selects a directory).
COPY --from=build /opt/orders /opt/orders
ENV PATH=/opt/orders/bin:$PATH \
    HOST=0.0.0.0
# Fails the build if a shared library is missing.
RUN orders --version

USER orders
WORKDIR /opt/orders
EXPOSE 8080
# `orders api` answers GET /health with 200 while it runs (PORT moves it). A worker serves
# /health only with --metrics-port; docker-compose.yml gives the workers their own check.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD curl -fsS -o /dev/null "http://127.0.0.1:${PORT:-8080}/health" || exit 1

ENTRYPOINT ["orders"]
CMD ["api", "--host", "0.0.0.0"]

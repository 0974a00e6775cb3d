# pds-trace image: the CLI, workers, the watcher, the web service and the built-in simulator.
# Build from the repository root (docker compose build). It holds no secret and no data: TLS
# material, tokens and passwords are mounted at run time (docker-compose.yml `secrets:`), patient
# data lives in volumes, and .dockerignore keeps both out of the build context.

# --- build: compile TypeScript (needs the dev dependencies) ----------------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY jobs ./jobs
# `npm ci` runs the `prepare` script, which builds dist/ (and copies the web views and assets).
RUN npm ci --no-audit --no-fund

# --- production: runtime dependencies and the built code only -------------------------------------
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# No dev dependencies (no TypeScript, test tools or browsers); --ignore-scripts because `prepare`
# would build, and the build is copied from the stage above.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# Synthetic samples and example configuration (no patient data); the container healthcheck.
COPY samples ./samples
COPY config ./config
COPY deploy/healthcheck.mjs ./deploy/healthcheck.mjs

# The account every pds-trace process runs as. Its uid and gid are build arguments so that files
# in bind-mounted folders (the watched folder, results) belong to the host account that exchanges
# them, and so that the secret files Compose mounts (owner-only on the host) are readable: compose
# passes PDS_TRACE_UID / PDS_TRACE_GID from .env, which deploy/bootstrap.sh writes from `id -u`.
ARG PDS_TRACE_UID=1000
ARG PDS_TRACE_GID=1000
RUN userdel --remove node \
  && groupadd --non-unique --gid "${PDS_TRACE_GID}" pds-trace \
  && useradd --non-unique --uid "${PDS_TRACE_UID}" --gid "${PDS_TRACE_GID}" --no-create-home --home-dir /data --shell /usr/sbin/nologin pds-trace \
  && ln -s /app/dist/src/cli.js /usr/local/bin/pds-trace \
  && mkdir -p /data /certs \
  && chown pds-trace:pds-trace /data /certs \
  && chmod 0700 /data /certs
# /data and /certs (the demo simulator's certificates) exist owned by that account, so the named
# volumes Compose mounts there start out as its own; /exchange is not made, so a service whose
# exchange folder is not mounted fails instead of writing results inside its container.
USER pds-trace
ENV PDS_TRACE_DATA_DIR=/data
# V8 grows its heap lazily, to ~250 MB under load, though a process holds ~50 MB live: a limit makes
# it collect sooner and keeps each process near 150 MB at no measured cost in throughput. One V8
# background thread: a process's collector otherwise waits on helper threads that compete for the
# cores with the other pds-trace processes on the machine (README, Memory and V8 threads).
ENV NODE_OPTIONS="--max-old-space-size=192 --v8-pool-size=1"
# Ready, not merely alive: GET /readyz on PDS_TRACE_METRICS_PORT (Redis, the audit store, the data
# folder, and for workers that they consume). A one-off command without that port has nothing to
# probe and counts as healthy. The web service probes its own port (docker-compose.yml).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "/app/deploy/healthcheck.mjs"]
ENTRYPOINT ["pds-trace"]
CMD ["--help"]

# pds-trace image: the CLI, workers and the built-in simulator. Build from the repository root.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY jobs ./jobs
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY samples ./samples
COPY config ./config
RUN ln -s /app/dist/src/cli.js /usr/local/bin/pds-trace && chmod +x /app/dist/src/cli.js \
  && mkdir -p /data /certs && chown node:node /data /certs
USER node
ENV PDS_TRACE_DATA_DIR=/data
# V8 grows its heap lazily, to ~250 MB under load, though a process holds ~50 MB live: a limit makes
# it collect sooner and keeps each process near 150 MB at no measured cost in throughput. One V8
# background thread: a process's collector otherwise waits on helper threads that compete for the
# cores with the other pds-trace processes on the machine (README, Memory and V8 threads).
ENV NODE_OPTIONS="--max-old-space-size=192 --v8-pool-size=1"
ENTRYPOINT ["pds-trace"]
CMD ["--help"]

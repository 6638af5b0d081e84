# floe: multi-stage build. The build stage runs CI's build steps (npm ci, which compiles librdkafka for
# node-rdkafka with zstd, lz4, SASL and TLS; tsc; eslint) and drops dev dependencies; the runtime stage is slim,
# runs as the unprivileged `node` user and needs no writable root filesystem (floe writes only to S3 and the
# catalog; /tmp is the only scratch path). `docker build -t floe .`
FROM node:22-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential python3 libzstd-dev liblz4-dev libsasl2-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json eslint.config.js ./
COPY src ./src
COPY test ./test
COPY native-bench ./native-bench
RUN npx tsc -p tsconfig.json && npx eslint src test native-bench && npm prune --omit=dev --no-audit --no-fund

FROM node:22-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libzstd1 liblz4-1 libsasl2-2 libssl3 ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
USER node
ENV NODE_ENV=production
# /metrics, /healthz, /readyz (metrics.port)
EXPOSE 9464
# tini forwards SIGTERM to node, which drains: stop fetching, commit tables, then offsets.
ENTRYPOINT ["tini", "--", "node", "dist/src/cli/main.js"]
CMD ["run", "--config", "/etc/floe/floe.yaml"]

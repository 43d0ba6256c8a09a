# syntax=docker/dockerfile:1
#
# One image for the product's long-running processes (docker-compose.yml picks the command):
#   node dist/src/api/main.js      the HTTP API (default)
#   node dist/src/worker/main.js   a worker; run as many as you need
# and a `setup` target (the same image plus the `temporal` CLI) for the one-off step that registers the
# search attributes and runs the migrations.
#
#   docker build -t crm-automation-engine .
#   docker build --target setup -t crm-automation-engine-setup .

ARG NODE_IMAGE=node:20-bookworm-slim
ARG TEMPORAL_ADMIN_TOOLS_IMAGE=temporalio/admin-tools:1.31.0

FROM ${TEMPORAL_ADMIN_TOOLS_IMAGE} AS temporal-cli

# --- build: compile TypeScript and bundle the workflows once, so workers start without webpack ---
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY migrations ./migrations
COPY src ./src
# .dockerignore keeps tests and the benchmark out: only src/ and migrations/ are compiled.
RUN npx tsc -p tsconfig.json \
 && node dist/src/worker/bundle.js \
 && test -f dist/workflow-bundle.js
# The web app (its typed client is generated from src/api's OpenAPI builder), served by the API at /.
COPY web ./web
COPY scripts/web-api.ts ./scripts/
RUN npm run build:web && test -f web/dist/index.html

# --- production dependencies only ---
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- runtime: compiled code, the bundle and production dependencies, as the unprivileged `node` user ---
FROM ${NODE_IMAGE} AS runtime-base
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    WORKER_METRICS_PORT=9464
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/web/dist ./web/dist
COPY package.json ./
USER node
EXPOSE 3000 9464

# --- setup: the one-off step (docker-compose.yml `setup`): search attributes + migrations ---
FROM runtime-base AS setup
COPY --from=temporal-cli /usr/local/bin/temporal /usr/local/bin/temporal
CMD ["node", "dist/src/cli/main.js", "migrate"]

# --- default target ---
FROM runtime-base AS runtime
CMD ["node", "dist/src/api/main.js"]

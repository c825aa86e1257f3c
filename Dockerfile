# syntax=docker/dockerfile:1
# One image for every Baton service and the example worker; docker-compose.yml (and infra/k8s) choose what
# runs with the command, e.g. `node dist/apps/orchestrator/src/main.js`.
ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: all dependencies, compile TypeScript with SWC into dist/ -------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV NX_DAEMON=false NX_NO_CLOUD=true
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY .swcrc tsconfig.base.json tsconfig.json ./
COPY apps ./apps
COPY libs ./libs
COPY examples ./examples
# What the image runs (the root `npm run build` also compiles e2e support and the benchmarks).
RUN npx swc apps libs examples -d dist --config-file .swcrc -q

# --- production dependencies only --------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force

# --- runtime -------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY scripts/healthcheck.mjs ./scripts/healthcheck.mjs
USER node
EXPOSE 8081 8082 8083 8084 8085
STOPSIGNAL SIGTERM
# GET /health/ready on $PORT (each service sets it; compose and k8s define their own checks too).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=6 CMD ["node", "scripts/healthcheck.mjs"]
CMD ["node", "dist/apps/orchestrator/src/main.js"]

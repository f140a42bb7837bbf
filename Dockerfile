# Admin Relay container image. Configured only through environment variables (see README).
# scripts/docker-replay.sh replays these steps without a Docker engine; keep the two in step by
# keeping every instruction in the simple forms it understands (COPY, RUN npm/mkdir, ENV, CMD).

# Build stage: every dependency, compile TypeScript to dist/ and bundle the relay into dist/bundle/.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts/bundle-relay.ts ./scripts/
RUN npm run build

# Runtime stage: production dependencies and the compiled code only, run as the unprivileged user.
FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production
ENV HOST=0.0.0.0
ENV PORT=3000
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The default AUDIT_STORE (file:./data/audit.jsonl) lives here; mount a volume on /app/data to keep it.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "dist/bundle/relay.js"]

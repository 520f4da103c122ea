# syntax=docker/dockerfile:1
# Production image: the app only. MongoDB (or FerretDB) and Redis are reached through MONGODB_URI
# and REDIS_URL from the environment; scripts/services.sh is for development and is not used here.
#
# Written without a Docker engine at hand and never built here: treat it as untested until a CI
# job runs `docker build` on it.

FROM node:20-bookworm-slim AS build
WORKDIR /app
# Lockfile first so the dependency layer is reused when only source changes.
COPY package.json package-lock.json ./
RUN npm ci
# Everything tsconfig.build.json compiles (src, scripts, bench); .dockerignore keeps out the rest.
COPY . .
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY config ./config
# Raw emails and attachments: the only place the app writes. Mount shared storage here when
# running several nodes.
ENV ATTACHMENTS_DIR=/data/attachments
RUN mkdir -p /data/attachments && chown -R node:node /data
VOLUME /data
# Files stay owned by root, so the app cannot rewrite its own code or config.
USER node
# 3000: HTTP API and websockets. 2525: inbound SMTP (above 1024, so no root needed).
EXPOSE 3000 2525
# Node has fetch built in; the slim image has no curl or wget.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:3000/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/src/main.js"]

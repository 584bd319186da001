# PredictQL server image: the bundled models, the runtime dependencies, nothing else.
#   docker build -t predictql .
#   docker run -p 4000:4000 -v predictql-cache:/data predictql
FROM node:20-bookworm-slim

WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# No install scripts: every native part (onnxruntime-node's CPU binaries, sharp, lmdb) ships
# prebuilt inside its package, and onnxruntime-node's script would try to download CUDA
# libraries (package.json's allowScripts says the same to npm 11; the image's npm 10 needs the flag).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

COPY schema ./schema
COPY src ./src
COPY models ./models

# Listen on every interface inside the container; keep the cache on a volume so it outlives
# the container. Every other setting keeps its default (README "Settings").
ENV HOST=0.0.0.0 \
    PORT=4000 \
    CACHE_URL=lmdb:///data/cache \
    WATCH_MODELS=false
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node
EXPOSE 4000

HEALTHCHECK --interval=10s --timeout=3s --start-period=60s \
  CMD node -e "fetch('http://127.0.0.1:4000/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"

# SIGTERM lets in-flight requests finish (SHUTDOWN_GRACE_MS, 10 s) before the process exits.
STOPSIGNAL SIGTERM
CMD ["node", "--import", "tsx", "src/main.ts"]

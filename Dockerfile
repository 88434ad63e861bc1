# One image, two entry points: the operator and the gateway.
#   docker build -t airlock:dev .
#   gateway:  docker run airlock:dev                  (runs dist/gateway/main.js)
#   operator: docker run airlock:dev dist/operator/main.js
# Node 24 LTS; the runtime stage has no dev dependencies, no npm, and runs as a non-root user.

FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# The npm package "node" (a dev dependency) brings Node 24 for machines without it; the base image has it.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY crds ./crds
COPY core ./core
COPY gateway ./gateway
COPY operator ./operator
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM gcr.io/distroless/nodejs24-debian12:nonroot AS runtime
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/crds/*.yaml ./crds/
USER 65532:65532
ENTRYPOINT ["/nodejs/bin/node"]
# The gateway's Node flags: core/config/gateway-runtime-flags.ts (the operator's Deployment passes the same).
CMD ["--max-semi-space-size=8", "dist/gateway/main.js"]

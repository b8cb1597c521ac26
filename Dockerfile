# One image for every role (api, worker) and for the Stripe emulator.
FROM node:24.11.1-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY libs/domain/package.json libs/domain/package.json
COPY libs/billing-guard/package.json libs/billing-guard/package.json
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:24.11.1-bookworm-slim
ENV NODE_ENV=production
# A larger young generation: with V8's default (16 MiB) the service scavenged so often under load that it
# cost about a tenth of its CPU per payment (npm run bench:payments; scripts/bench/service-node-args.ts).
ENV NODE_OPTIONS=--max-semi-space-size=64
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/config ./config
COPY --from=build /app/libs/domain/package.json ./libs/domain/package.json
COPY --from=build /app/libs/domain/dist ./libs/domain/dist
USER node
EXPOSE 3000
CMD ["node", "dist/apps/billing-api/src/main.js"]

# epochgraph daemon image: Node 20, `npm ci`, build, run `epochgraph serve`.
# docker-compose.yml runs it against an etcd service: serve --host 0.0.0.0 --etcd http://etcd:2379

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN chmod +x dist/src/cli.js && ln -s /app/dist/src/cli.js /usr/local/bin/epochgraph \
  && mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 7070
# Node is PID 1 (exec form): SIGTERM from `docker stop` reaches the daemon, which seals,
# fsyncs and deregisters before exiting 0 (give it time: stop_grace_period in compose).
ENTRYPOINT ["epochgraph"]
CMD ["serve", "--host", "0.0.0.0", "--etcd", "http://etcd:2379", "--data-dir", "/data"]

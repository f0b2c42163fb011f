# One image for every role of the FF-A world; the role is chosen at run time by FFA_ROLE
# (docker-compose.yml starts gic, spmd, spmc, hypervisor, guests and the orchestrator from it).
# Keys are never in the image: compose mounts each service's own file (docker-compose.yml secrets:).
FROM node:20-slim

WORKDIR /app
ENV NODE_ENV=production

COPY package.json package-lock.json tsconfig.json ./

# Dependencies come from the host's node_modules, made by `npm ci` before the build: no registry is
# reachable from image builds on the machines this project runs on (see .dockerignore, which keeps
# node_modules in the context). The host is Debian bookworm like node:20-slim, so msgpackr's
# native addon and esbuild's binary fit. On a machine whose builds reach the npm registry, replace
# the COPY below with (tsx is a runtime dependency, so --omit=dev keeps all the service needs):
#   RUN npm ci --omit=dev
COPY node_modules ./node_modules

COPY shared ./shared
COPY services ./services
COPY scripts ./scripts
COPY scenarios ./scenarios

# The services' code as one JavaScript bundle (scripts/service-bundle.ts): a service starts in
# well under a second instead of the seconds tsx takes to load the TypeScript sources, and
# compose starts them one health-gated stage after another.
RUN node --import tsx scripts/service-bundle.ts --out node_modules/.cache/ffa-world/service.mjs

# uid 1000, present in node:20-slim. Bind-mounted output folders must be writable by it.
USER node

# healthy = the service wrote state "started" into its status file and is still running
# (scripts/healthcheck.mjs; exec form: some engines split a long `node -e '…'` on spaces).
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=3 CMD ["node", "scripts/healthcheck.mjs"]

# The bundle runs scripts/service.ts; `node --import tsx scripts/service.ts` runs the same from the sources.
CMD ["node", "--enable-source-maps", "node_modules/.cache/ffa-world/service.mjs"]

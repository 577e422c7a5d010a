// The floor of a cold start: a fresh node process that only starts and exits.
process.exit(0)

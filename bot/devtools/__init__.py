"""Development tools, not part of the running bot: the emulated Bot API (in process and over
HTTP on 127.0.0.1), the console, and the factory that builds the bot on the emulator. Only the
console command, the tests and the benchmarks may import this package (an import contract)."""

// fork-ipc peer: answers {id, x} with {id, result}. Exits when the parent disconnects or dies.
process.on("message", (message) => {
  process.send({ id: message.id, result: message.x });
});
process.on("disconnect", () => process.exit(0));

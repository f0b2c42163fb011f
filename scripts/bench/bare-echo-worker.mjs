// The floor for a ws hop: a worker thread that echoes every frame back, with nothing else.
import { parentPort } from 'node:worker_threads';
import { WebSocketServer } from 'ws';

const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 64 * 1024 });
server.on('connection', (socket) => {
  socket.on('message', (data) => socket.send(data));
});
server.on('listening', () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', (message) => {
  if (message === 'stop') server.close(() => process.exit(0));
});

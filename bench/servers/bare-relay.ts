/**
 * Baseline: the least a relay can do — a bare `ws` server that joins sockets to rooms and
 * forwards JSON by peer id. No validation, limits, presence or heartbeat. Same `ws` options
 * as padmesh (no permessage-deflate, same maxPayload), so the difference is padmesh's own work.
 */
import { type WebSocket, WebSocketServer } from 'ws';
import { serveBenchContender } from './contender.ts';

const rooms = new Map<string, Map<string, WebSocket>>();
let nextId = 0;

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 64 * 1024 });
wss.on('connection', (ws) => {
  const id = `p${++nextId}`;
  let room: Map<string, WebSocket> | undefined;
  ws.on('error', () => ws.terminate());
  ws.on('message', (raw) => {
    let message: { type?: string; room?: string; to?: string; data?: unknown };
    try {
      message = JSON.parse(raw.toString());
    } catch {
      return;
    }
    if (message.type === 'join') {
      const key = message.room ?? id;
      room = rooms.get(key) ?? new Map();
      rooms.set(key, room);
      room.set(id, ws);
      ws.send(JSON.stringify({ type: 'welcome', room: key, peerId: id }));
    } else if (message.type === 'relay' && room && message.to) {
      room.get(message.to)?.send(JSON.stringify({ type: 'relay', from: id, data: message.data }));
    }
  });
  ws.on('close', () => room?.delete(id));
});
wss.on('listening', () => {
  const address = wss.address();
  serveBenchContender(typeof address === 'object' && address !== null ? address.port : 0);
});

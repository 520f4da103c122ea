export { createRealtimeGateway, type RealtimeDeps, type RealtimeGateway, type RoomEvent } from './realtime.gateway';
export type { UserEvent, Replay } from './event-log.repository';
export type { ScreenPop } from './screen-pop';
export type { Ack } from './realtime.handlers';
export { socketActions, type SocketAction } from './realtime.handlers';

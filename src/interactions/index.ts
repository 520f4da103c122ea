export { InteractionService, toInteraction, type Interaction, type Entry, type InboundEvent, type InteractionChanges, type InteractionListener, type NewEntry, type RecordedEvent } from './interaction.service';
export { InteractionRepository } from './interaction.repository';
export { interactionRoutes } from './interaction.routes';
export { channels, directions, interactionStatuses, type Channel, type Direction, type InteractionStatus } from './interaction.model';

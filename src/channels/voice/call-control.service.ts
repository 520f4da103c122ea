import { normalizePhone } from '../../customers';
import type { Interaction, InteractionChanges, NewEntry } from '../../interactions';
import { AppError } from '../../platform/errors';
import type { Principal } from '../../platform/http/principal';
import { assertMayActOnContact } from '../contact-access';
import { nextCallState } from './call-status';
import { dialAgentTwiml } from './twiml';
import { toCallProgress, type TwilioCallStatus } from './voice.adapter';
import { callExternalId, callSidOf, voiceUrls, withCallLock, type VoiceContext } from './voice.context';

const finalStatuses = new Set(['closed', 'abandoned', 'failed']);

/** The browser softphone identity of an agent; the token and <Dial><Client> must agree on it. */
export const agentIdentity = (agentId: string) => `agent-${agentId}`;

/** Call progress, connecting agents, click-to-call and softphone tokens. */
export class CallControlService {
  private readonly urls;

  constructor(private readonly context: VoiceContext) {
    this.urls = voiceUrls(context.config.PUBLIC_BASE_URL);
  }

  /**
   * Stores one status callback as an entry (idempotent per CallSid, status and sequence number) and
   * moves the interaction forward as the status machine decides. `interactionId` comes from the
   * status URL of calls we placed, so a callback that beats our own bookkeeping still finds its call.
   */
  async recordCallProgress(event: {
    callSid: string;
    status: TwilioCallStatus;
    sequenceNumber?: string;
    timestamp?: string;
    durationSeconds?: number;
    interactionId?: string;
  }): Promise<{ interactionId?: string; status?: string }> {
    const { interactions, log } = this.context;
    return withCallLock(this.context, event.callSid, async () => {
      const known = (await interactions.findByExternalId(callExternalId(event.callSid))) ?? (event.interactionId ? await this.adoptPlacedCall(event.callSid, event.interactionId) : null);
      if (!known) {
        log.warn({ callSid: event.callSid }, 'status for an unknown call ignored');
        return {};
      }
      const interaction = await interactions.getInteraction(known.interactionId);
      const parsedAt = event.timestamp ? new Date(event.timestamp) : undefined;
      const at = parsedAt && !Number.isNaN(parsedAt.getTime()) ? parsedAt : new Date();
      const progress = toCallProgress(event.status);
      const transition = nextCallState(
        {
          status: interaction.status,
          direction: interaction.direction === 'outbound' ? 'outbound' : 'inbound',
          agentConnected: Boolean(interaction.agentId),
          afterHours: interaction.flags.includes('after_hours'),
          queuedAt: interaction.queuedAt ? new Date(interaction.queuedAt) : undefined,
          ended: Boolean(interaction.endedAt),
        },
        { progress, at },
      );
      await interactions.recordInboundEvent({
        externalId: `twilio-call-status:${event.callSid}:${event.status}:${event.sequenceNumber ?? event.timestamp ?? 'once'}`,
        customerId: interaction.customerId,
        channel: 'voice',
        direction: interaction.direction,
        appendTo: interaction.id,
        entry: {
          kind: 'call_event',
          at,
          data: {
            event: 'status',
            progress,
            // The vendor's own word, for support cases; our status is `progress` and the interaction's.
            twilioStatus: event.status,
            ...(event.sequenceNumber !== undefined ? { sequenceNumber: Number(event.sequenceNumber) } : {}),
            ...(event.durationSeconds !== undefined ? { durationSeconds: event.durationSeconds } : {}),
            ...(transition.waitSeconds !== undefined ? { waitSeconds: transition.waitSeconds } : {}),
            ...(transition.status ? { interactionStatus: transition.status } : {}),
          },
        },
      });
      // Applied even for a duplicate: the machine is monotonic, and this finishes a delivery that died here.
      const { waitSeconds: _wait, ...changes } = transition;
      if (Object.keys(changes).length) await interactions.updateInteraction(interaction.id, changes, transition.status === 'abandoned' ? ['abandoned_in_queue'] : []);
      log.info({ interactionId: interaction.id, callSid: event.callSid, progress, status: transition.status }, 'call progress recorded');
      return { interactionId: interaction.id, status: transition.status ?? interaction.status };
    });
  }

  /**
   * A person asks to take a caller (`POST /api/voice/calls/:id/connect`): an agent only a call they
   * hold (accepted offer, or already bridged to them), a supervisor or admin any queued caller; then
   * as `connectCallToAgent`. Routing's own bridge on accept calls `connectCallToAgent` directly.
   */
  async connectForUser(input: { interactionId: string; principal: Pick<Principal, 'id' | 'role'> }): Promise<Interaction> {
    const { principal, interactionId } = input;
    if (principal.role === 'agent') {
      const interaction = await this.context.interactions.getInteractionState(interactionId);
      const bridgedToThem = interaction.status === 'active' && interaction.agentId === principal.id;
      await assertMayActOnContact(principal, interactionId, this.context.holds, 'connect', bridgedToThem);
    } else {
      await assertMayActOnContact(principal, interactionId, this.context.holds, 'connect');
    }
    return this.connectCallToAgent({ interactionId, agentId: principal.id });
  }

  /**
   * Takes a queued caller out of the queue and rings the agent's softphone. Idempotent for the same
   * agent; the interaction becomes active with `answeredAt` set when Twilio accepts the redirect
   * (we do not wait for the agent leg's own progress).
   */
  /**
   * `externalId` is a hint from routing (the contact's `twilio-call:<CallSid>`): with it the call's
   * lock is taken without reading the interaction first; a hint that turns out not to be this
   * interaction's call is ignored and the CallSid looked up.
   */
  async connectCallToAgent(input: { interactionId: string; agentId: string; externalId?: string; record?: { changes: InteractionChanges; entry: NewEntry } }): Promise<Interaction> {
    const { interactions } = this.context;
    const hinted = input.externalId?.startsWith(callExternalId('')) ? input.externalId.slice(callExternalId('').length) : undefined;
    if (hinted) {
      const connected = await this.connectUnderLock(input, hinted);
      if (connected) return connected;
    }
    const first = await interactions.getInteraction(input.interactionId);
    const callSid = callSidOf(first);
    if (first.channel !== 'voice' || first.direction !== 'inbound' || !callSid) {
      throw new AppError('conflict', 'Only an inbound call can be connected to an agent', { interactionId: first.id, channel: first.channel, direction: first.direction });
    }
    return (await this.connectUnderLock(input, callSid))!;
  }

  /** null when `callSid` is not this interaction's call (a wrong hint): nothing was done. */
  private async connectUnderLock(input: { interactionId: string; agentId: string; record?: { changes: InteractionChanges; entry: NewEntry } }, callSid: string): Promise<Interaction | null> {
    const { interactions, adapter, log } = this.context;
    return withCallLock(this.context, callSid, async () => {
      const interaction = await interactions.getInteraction(input.interactionId);
      if (callSidOf(interaction) !== callSid || interaction.channel !== 'voice' || interaction.direction !== 'inbound') return null;
      if (interaction.status === 'active' && interaction.agentId === input.agentId) {
        return input.record ? interactions.updateInteraction(interaction.id, input.record.changes, [], { entry: input.record.entry }) : interaction;
      }
      if (finalStatuses.has(interaction.status) || interaction.endedAt) {
        throw new AppError('conflict', 'The caller has already hung up', { interactionId: interaction.id, status: interaction.status });
      }
      if (interaction.status === 'active') {
        throw new AppError('conflict', 'The call is already connected to another agent', { interactionId: interaction.id, agentId: interaction.agentId });
      }
      await adapter.redirectCall(callSid, dialAgentTwiml(agentIdentity(input.agentId)));
      // The bridge and its record (with routing's, when it asks) in one write: every answered call pays it.
      const connected = await interactions.updateInteraction(interaction.id, { answeredAt: new Date(), ...input.record?.changes, status: 'active', agentId: input.agentId }, [], {
        entries: [{ kind: 'call_event', direction: 'internal', authorId: input.agentId, data: { event: 'connected', agentId: input.agentId } }, ...(input.record ? [input.record.entry] : [])],
      });
      log.info({ interactionId: interaction.id, callSid, agentId: input.agentId }, 'call connected to agent');
      return connected;
    });
  }


  /**
   * Click-to-call: logs an outbound call on the customer, has Twilio ring them, and bridges them to
   * the agent's softphone when they answer. `to` must be one of the customer's numbers.
   */
  async placeCall(input: { agentId: string; customerId: string; to?: string }): Promise<{ interactionId: string; callSid: string }> {
    const { interactions, customers, adapter, config, log } = this.context;
    const from = config.TWILIO_NUMBERS.split(',').map((number) => number.trim()).find(Boolean);
    if (!from) throw new AppError('unavailable', 'No caller id to place calls from: set TWILIO_NUMBERS', { missing: ['TWILIO_NUMBERS'] });
    adapter.assertConfigured();
    const customer = await customers.getCustomer(input.customerId);
    if (customer.mergedInto) throw new AppError('conflict', 'This customer was merged; call the surviving customer', { mergedInto: customer.mergedInto });
    const numbers = customer.phones.filter((phone) => phone.kind === 'e164').map((phone) => phone.value);
    const to = input.to !== undefined ? normalizePhone(input.to, config.DEFAULT_PHONE_REGION)?.value : numbers[0];
    if (!to || !numbers.includes(to)) {
      throw AppError.validation([{ field: 'body.to', message: input.to !== undefined ? "is not one of this customer's phone numbers" : 'the customer has no phone number to call' }]);
    }

    const created = await interactions.createInteraction({
      customerId: customer.id,
      channel: 'voice',
      direction: 'outbound',
      status: 'open',
      firstEntry: { kind: 'call_event', direction: 'outbound', authorId: input.agentId, data: { event: 'dialing', to, from, agentId: input.agentId } },
    });
    const entryId = created.entries![0].id;
    await interactions.updateInteraction(created.id, { agentId: input.agentId });
    let callSid: string;
    try {
      ({ callSid } = await adapter.createCall({ to, from, twiml: dialAgentTwiml(agentIdentity(input.agentId)), statusCallback: `${this.urls.status}?interactionId=${created.id}` }));
    } catch (error) {
      await interactions.updateInteraction(created.id, { status: 'failed', endedAt: new Date() }, ['dial_failed']);
      throw error;
    }
    await this.linkPlacedCall(callSid, created.id, entryId);
    await interactions.updateEntry(created.id, entryId, { data: { callSid } });
    log.info({ interactionId: created.id, customerId: customer.id, callSid, agentId: input.agentId }, 'outbound call placed');
    return { interactionId: created.id, callSid };
  }

  /** A Voice JS SDK token for the agent's softphone. */
  issueToken(agentId: string): { token: string; identity: string; ttlSeconds: number } {
    return this.context.adapter.issueAccessToken(agentIdentity(agentId));
  }

  /** A callback for a call we placed, arriving before `placeCall` linked the CallSid: link it here. */
  private async adoptPlacedCall(callSid: string, interactionId: string): Promise<{ interactionId: string; entryId: string } | null> {
    const interaction = await this.context.interactions.getInteraction(interactionId).catch(() => null);
    const first = interaction?.entries?.[0];
    if (!interaction || interaction.channel !== 'voice' || interaction.direction !== 'outbound' || !first) return null;
    await this.linkPlacedCall(callSid, interaction.id, first.id);
    return { interactionId: interaction.id, entryId: first.id };
  }

  private linkPlacedCall(callSid: string, interactionId: string, entryId: string): Promise<void> {
    return this.context.interactions.linkExternalId(callExternalId(callSid), { interactionId, entryId });
  }
}

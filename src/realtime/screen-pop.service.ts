import type { CustomerService, Customer } from '../customers';
import type { InteractionService } from '../interactions';
import type { Logger } from '../platform/logger';
import { assembleScreenPop, type OpenTaskReader, type ScreenPop } from './screen-pop';
import type { SmsConsentReader } from './sms-consent.repository';

// Tombstone chains are short; a longer one is a merge bug, and the pop shows the last record reached.
const maxMergeHops = 4;

/** Gathers what an agent sees when a contact is offered: the contact, the customer, their history. */
export class ScreenPopService {
  constructor(
    private readonly customers: CustomerService,
    private readonly interactions: InteractionService,
    private readonly consents: SmsConsentReader | undefined,
    private readonly log: Logger,
    private readonly tasks?: OpenTaskReader,
  ) {}

  /** `customerId`, when the caller knows it (routing does), lets the history be read alongside the contact. */
  async build(interactionId: string, customerId?: string): Promise<ScreenPop> {
    const reading = this.interactions.getInteraction(interactionId);
    reading.catch(() => undefined); // awaited just below
    const expectedCustomerId = customerId ?? (await reading).customerId;
    // The timeline is read alongside the contact and the customer, on the bet (almost always won)
    // that the customer was not merged away; when it was, the survivor's timeline is read after.
    const timelineOf = (id: string) => this.interactions.getTimeline(id, { limit: 20 });
    const early = timelineOf(expectedCustomerId);
    early.catch(() => undefined); // awaited below, or dropped when the customer was merged
    // Open tasks ride on the same bet, read alongside the timeline so the pop is no slower.
    const earlyTasks = this.openTasks(expectedCustomerId, interactionId);
    const earlyCustomer = this.liveCustomer(expectedCustomerId);
    earlyCustomer.catch(() => undefined); // awaited below unless the contact names another customer
    const interaction = await reading;
    const customer = interaction.customerId === expectedCustomerId ? await earlyCustomer : await this.liveCustomer(interaction.customerId);
    // Merged away, or moved to another customer since routing read it: the live customer's history.
    const merged = customer.id !== expectedCustomerId;
    const [timeline, smsOptedOut, openTasks] = await Promise.all([
      merged ? timelineOf(customer.id) : early,
      this.smsOptedOut(customer, interactionId),
      merged ? this.openTasks(customer.id, interactionId) : earlyTasks,
    ]);
    return assembleScreenPop({ interaction, customer, timeline: timeline.items, smsOptedOut, openTasks, now: new Date() });
  }

  // Tasks are context, like consent: a failed read shows "unknown" (null) rather than failing the offer.
  private async openTasks(customerId: string, interactionId: string): Promise<Awaited<ReturnType<OpenTaskReader['openTasksOf']>> | null> {
    if (!this.tasks) return [];
    try {
      return await this.tasks.openTasksOf(customerId);
    } catch (error) {
      this.log.warn({ err: error, interactionId, customerId }, 'open tasks read failed');
      return null;
    }
  }

  /** A merged customer's interactions move to the survivor, so the pop shows the survivor. */
  private async liveCustomer(customerId: string): Promise<Customer> {
    // The caller was resolved moments ago on this contact's path: a copy that young is as good as a read.
    const fresh = { maxAgeMs: 2000 };
    let customer = await this.customers.getCustomer(customerId, fresh);
    for (let hop = 0; customer.mergedInto && hop < maxMergeHops; hop++) customer = await this.customers.getCustomer(customer.mergedInto, fresh);
    return customer;
  }

  // Consent is a nice-to-have in the pop: a failed read shows "unknown" rather than failing the offer.
  private async smsOptedOut(customer: Customer, interactionId: string): Promise<boolean | null> {
    if (!this.consents) return null;
    const numbers = customer.phones.filter((phone) => phone.kind === 'e164').map((phone) => phone.value);
    try {
      return await this.consents.anyOptedOut(numbers);
    } catch (error) {
      this.log.warn({ err: error, interactionId, customerId: customer.id }, 'sms consent read failed');
      return null;
    }
  }
}

import mongoose, { type Connection, type Model } from 'mongoose';
import { isDuplicateKeyError } from '../platform/errors';
import { scanById } from '../platform/repair-jobs';
import { webhookModels, type DeliveryAttempt, type DeliveryDocument, type DeliveryState, type SubscriptionDocument } from './webhook.model';

/** Data access for webhook subscriptions and their delivery log; reads on the hot path go by `_id`. */
export class WebhookRepository {
  private readonly Subscription: Model<SubscriptionDocument>;
  private readonly Delivery: Model<DeliveryDocument>;

  constructor(connection: Connection) {
    ({ Subscription: this.Subscription, Delivery: this.Delivery } = webhookModels(connection));
  }

  async insertSubscription(subscription: Omit<SubscriptionDocument, 'createdAt' | 'updatedAt'>): Promise<SubscriptionDocument> {
    return (await this.Subscription.create(subscription)).toObject();
  }

  findSubscription(id: string): Promise<SubscriptionDocument | null> {
    return this.Subscription.findById(id).lean<SubscriptionDocument>().exec();
  }

  /** Subscriptions are few (one per connected system); every task event reads them all. */
  listSubscriptions(): Promise<SubscriptionDocument[]> {
    return this.Subscription.find({}).sort({ createdAt: 1, _id: 1 }).lean<SubscriptionDocument[]>().exec();
  }

  setSecret(id: string, secret: string): Promise<SubscriptionDocument | null> {
    return this.Subscription.findByIdAndUpdate(id, { $set: { secret } }, { returnDocument: 'after' }).lean<SubscriptionDocument>().exec();
  }

  async deleteSubscription(id: string): Promise<SubscriptionDocument | null> {
    return this.Subscription.findByIdAndDelete(id).lean<SubscriptionDocument>().exec();
  }

  /** Inserts the delivery unless it exists (a repeated event); returns whether it was new. */
  async insertDelivery(delivery: Omit<DeliveryDocument, 'createdAt' | 'updatedAt'>): Promise<boolean> {
    try {
      await this.Delivery.create(delivery);
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }

  findDelivery(id: string): Promise<DeliveryDocument | null> {
    return this.Delivery.findById(id).lean<DeliveryDocument>().exec();
  }

  recordAttempt(id: string, attempt: DeliveryAttempt, state: DeliveryState): Promise<DeliveryDocument | null> {
    const set: Record<string, unknown> = { state };
    if (state === 'delivered') set.deliveredAt = attempt.at;
    return this.Delivery.findByIdAndUpdate(id, { $push: { attempts: attempt }, $set: set }, { returnDocument: 'after' }).lean<DeliveryDocument>().exec();
  }

  setState(id: string, state: DeliveryState): Promise<DeliveryDocument | null> {
    return this.Delivery.findByIdAndUpdate(id, { $set: { state } }, { returnDocument: 'after' }).lean<DeliveryDocument>().exec();
  }

  /** Marks the delivery pending again and counts the redelivery; the count names the new job. */
  markRedelivery(id: string): Promise<DeliveryDocument | null> {
    return this.Delivery.findByIdAndUpdate(id, { $set: { state: 'pending' }, $inc: { redeliveries: 1 } }, { returnDocument: 'after' }).lean<DeliveryDocument>().exec();
  }

  /** Deliveries still to be tried (pending or retrying), without their bodies, in `_id` order: the reconciler's input. */
  unfinishedDeliveries(): AsyncGenerator<DeliveryDocument> {
    return scanById(this.Delivery, { state: mongoose.trusted({ $in: ['pending', 'retrying'] }) }, { projection: { body: 0 } });
  }

  listDeliveries(subscriptionId: string, options: { limit: number; skip: number }): Promise<DeliveryDocument[]> {
    return this.Delivery.find({ subscriptionId }, { body: 0 }).sort({ createdAt: -1, _id: -1 }).skip(options.skip).limit(options.limit).lean<DeliveryDocument[]>().exec();
  }
}

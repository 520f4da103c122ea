import mongoose, { type Connection, type Model } from 'mongoose';
import { isDuplicateKeyError } from '../platform/errors';
import { scanById } from '../platform/repair-jobs';
import { surveyModel, type SurveyDocument } from './survey.model';

export type Survey = SurveyDocument;

/** Data access of CSAT surveys; every read and write is by `_id` (the interaction id). */
export class SurveyRepository {
  private readonly model: Model<SurveyDocument>;

  constructor(connection: Connection) {
    this.model = surveyModel(connection);
  }

  find(interactionId: string): Promise<Survey | null> {
    return this.model.findById(interactionId).lean<Survey>().exec();
  }

  /**
   * Creates the survey unless the interaction already has one, in one command; when it had one,
   * returns it as it was (untouched).
   */
  async createOnce(survey: Omit<Survey, 'status' | 'createdAt'>): Promise<{ created: true } | { created: false; existing: Survey | null }> {
    const { _id, ...fields } = survey;
    try {
      const existing = await this.model
        .findOneAndUpdate({ _id }, { $setOnInsert: { ...fields, status: 'scheduled', createdAt: new Date() } }, { upsert: true, returnDocument: 'before' })
        .lean<Survey>()
        .exec();
      return existing ? { created: false, existing } : { created: true };
    } catch (error) {
      // Two upserts of a new survey at once: the other one created it.
      if (isDuplicateKeyError(error)) return { created: false, existing: await this.find(_id) };
      throw error;
    }
  }

  /** Surveys not sent yet or waiting for an answer, in `_id` order: the reconciler's input. */
  unfinished(): AsyncGenerator<Survey> {
    return scanById(this.model, { status: mongoose.trusted({ $in: ['scheduled', 'pending'] }) });
  }

  /** scheduled → pending; false when another worker already moved it. */
  async markSent(interactionId: string, sentAt: Date, expiresAt: Date): Promise<boolean> {
    const result = await this.model.updateOne({ _id: interactionId, status: 'scheduled' }, { $set: { status: 'pending', sentAt, expiresAt } }).exec();
    return result.modifiedCount === 1;
  }

  async markSkipped(interactionId: string, reason: string): Promise<boolean> {
    const result = await this.model.updateOne({ _id: interactionId, status: 'scheduled' }, { $set: { status: 'skipped', skipReason: reason } }).exec();
    return result.modifiedCount === 1;
  }

  /** pending → answered, atomically: the first answer wins, later ones find it answered. */
  async markAnswered(interactionId: string, answer: { score: number; at: Date; via: 'sms' | 'link' }): Promise<Survey | null> {
    return this.model
      .findOneAndUpdate({ _id: interactionId, status: 'pending' }, { $set: { status: 'answered', score: answer.score, answeredAt: answer.at, answeredVia: answer.via } }, { returnDocument: 'after' })
      .lean<Survey>()
      .exec();
  }

  async markExpired(interactionId: string): Promise<boolean> {
    const result = await this.model.updateOne({ _id: interactionId, status: 'pending' }, { $set: { status: 'expired' } }).exec();
    return result.modifiedCount === 1;
  }
}

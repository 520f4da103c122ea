import servicesSetup from '../support/global-setup';
import { ensureWebBundle } from './web-bundle';

/** The stores (as before), then the browser UI the e2e tests load, rebuilt only when web/ changed. */
export default async function globalSetup(): Promise<void> {
  await servicesSetup();
  ensureWebBundle();
}

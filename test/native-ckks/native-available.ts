/** Whether the native addon loads here (it is built by `npm install`; a machine without a compiler has none). */
import { createNativeBackend } from '../../src/backend/native.ts';

export async function nativeAvailable(): Promise<boolean> {
  if (process.env.HEFTY_REQUIRE_NATIVE === '1') return true; // CI: a missing addon must fail, not skip
  try {
    await createNativeBackend();
    return true;
  } catch {
    return false;
  }
}

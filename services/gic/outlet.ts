/**
 * What the broker's handlers may do to the world: record an event in the history, and send a
 * frame. The component's context is the outlet; handlers get nothing else of it.
 */
import type { ComponentContext } from '../../shared/runtime/component.ts';

export type Outlet = Pick<ComponentContext, 'record' | 'send'>;

/** Faults test module: a throwing hard-irq handler and a throwing softirq action (NET_RX). */
import {
  defineModule,
  FIRST_DEVICE_IRQ,
  open_softirq,
  raise_irq,
  raise_softirq,
} from '../../kernel/index.ts';

const NET_RX_SOFTIRQ = 3;
const FAULTS_IRQ = FIRST_DEVICE_IRQ;

function faults_interrupt(): void {
  throw new Error('faults_interrupt: device on fire');
}

function faults_net_rx_action(): void {
  throw new Error('faults_net_rx_action: bad packet');
}

export default defineModule({
  name: 'faults-irq',
  irqs: { [FAULTS_IRQ]: { name: 'faults', handler: faults_interrupt } },
  cpu_init() {
    open_softirq(NET_RX_SOFTIRQ, faults_net_rx_action);
  },
  init() {
    raise_irq(0, FAULTS_IRQ);
    raise_softirq(NET_RX_SOFTIRQ);
  },
});

// Simulated time: runs `speed` times faster than the wall clock, so a 5 s install takes 0.1 s at speed 50.
// Changing the speed re-bases the clock, so simulated time never jumps.
export class SimClock {
  private realBase = Date.now();
  private simBase = this.realBase;

  constructor(private speed = 1) {
    if (!(speed > 0)) throw new Error(`Simulator speed must be a positive number, got ${speed}.`);
  }

  /** Simulated epoch ms. */
  now(): number {
    return this.simBase + (Date.now() - this.realBase) * this.speed;
  }

  /** Jumps simulated time forward (tests step installs through their states deterministically). */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new Error(`The simulated clock only moves forward; got ${ms} ms.`);
    this.simBase += ms;
  }

  getSpeed(): number {
    return this.speed;
  }

  setSpeed(multiplier: number): void {
    if (!(multiplier > 0)) throw new Error(`Simulator speed must be a positive number, got ${multiplier}.`);
    this.simBase = this.now();
    this.realBase = Date.now();
    this.speed = multiplier;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The policy form's times (src/local-time.ts): RFC 3339 to and from `datetime-local` fields, which hold local
 * time to the minute. An untouched field gives the original back, seconds included; an edited one its minute.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fromLocalInput, toLocalInput } from "../src/local-time.js";

describe("dashboard local-time fields", () => {
  it("shows a time as the local minute, and reads the field back as the same instant", () => {
    const iso = new Date(2031, 0, 2, 3, 4).toISOString();
    assert.equal(toLocalInput(iso), "2031-01-02T03:04");
    assert.equal(fromLocalInput("2031-01-02T03:04"), iso);
  });

  it("gives back the original, seconds and all, while the field still shows it; an edit counts to the minute", () => {
    const original = new Date(2032, 4, 6, 7, 8, 9, 123).toISOString();
    const shown = toLocalInput(original);
    assert.equal(shown, "2032-05-06T07:08");
    assert.equal(fromLocalInput(shown, original), original);
    assert.equal(fromLocalInput("2032-05-06T07:09", original), new Date(2032, 4, 6, 7, 9).toISOString());
  });

  it("an empty or unreadable field is no time; no time shows as an empty field", () => {
    assert.equal(fromLocalInput(""), undefined);
    assert.equal(fromLocalInput("", "2030-01-01T00:00:00.000Z"), undefined);
    assert.equal(fromLocalInput("not a time"), undefined);
    assert.equal(toLocalInput(null), "");
    assert.equal(toLocalInput(undefined), "");
    assert.equal(toLocalInput("garbage"), "");
  });
});

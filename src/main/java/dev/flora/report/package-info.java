/**
 * Pareto fronts and their plots (XChart). Depends on nothing else of flora-j but the engine's atomic
 * file writes, so any stage can be reported the same way.
 */
package dev.flora.report;

/**
 * Pareto fronts and the plots of the reports (XChart): accuracy against FLOPs, singular-value
 * spectra, means with error bars over seeds. Depends on nothing else of flora-j but the engine's
 * atomic file writes, so any stage can be reported the same way.
 */
package dev.flora.report;

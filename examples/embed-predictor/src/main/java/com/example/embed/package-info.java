/** A minimal JVM service embedding flora-j: classifies a PNG with a bundled model through flora-api alone. */
package com.example.embed;

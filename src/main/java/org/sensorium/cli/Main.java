package org.sensorium.cli;
public class Main { public static void main(String[] a) {} }

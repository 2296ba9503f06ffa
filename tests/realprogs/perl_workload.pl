#!/usr/bin/perl
# RealProgs.Perl: heavy hash / array / string / regex work with a deterministic digest.
# Run natively and with a malloc library preloaded; the output must be identical.
use strict;
use warnings;
use Digest::MD5 qw(md5_hex);

my $n = shift // 100_000;
my $seed = 42;
sub rnd { $seed = ($seed * 1103515245 + 12345) % 2147483648; return $seed >> 7; }  # drop the weak low bits
my @alpha = ('a' .. 'z', 'A' .. 'Z', '0' .. '9');
sub word { my $len = 3 + rnd() % 14; join '', map { $alpha[rnd() % @alpha] } 1 .. $len }

my $ctx = Digest::MD5->new;

# 1. A big hash of words -> counts and lists, with many deletions (hash growth and shrinking).
my %h;
for my $i (1 .. $n) {
  my $w = word();
  $h{$w}{count}++;
  push @{ $h{$w}{seen} }, $i if @{ $h{$w}{seen} // [] } < 4;
  if ($i % 7 == 0) {
    my $victim = word();
    delete $h{$victim};
  }
}
my @keys = sort keys %h;
$ctx->add(join ',', scalar(@keys), @keys[0 .. 99]);
my $total = 0;
$total += $h{$_}{count} for @keys;
printf "hash: %d keys, %d counted\n", scalar(@keys), $total;

# 2. Arrays: build, splice, sort numerically and by custom keys, reverse, grep, map.
my @a = map { rnd() % 1_000_000 } 1 .. $n;
splice(@a, 1000, 5000, map { $_ * 3 } 1 .. 2500);
my @sorted = sort { $a <=> $b } @a;
my @bykey = sort { ($a % 1000) <=> ($b % 1000) or $b <=> $a } @a[0 .. 49_999];
my @evens = grep { !($_ & 1) } @sorted;
my @sq = map { $_ * $_ % 65521 } @evens;
$ctx->add(join ' ', @sorted[0 .. 199], @bykey[0 .. 199], scalar(@evens), @sq[-100 .. -1]);
printf "arrays: %d sorted, %d even, min %d max %d\n", scalar(@sorted), scalar(@evens),
  $sorted[0], $sorted[-1];

# 3. Strings: concatenation growth, substr, reverse, sprintf, split/join, tr.
my $s = '';
for my $i (1 .. $n / 3) {
  $s .= sprintf('%05d:%s;', $i % 99999, word());
  if (length($s) > 200_000) {
    $ctx->add(substr($s, 0, 1000), scalar reverse(substr($s, -1000)));
    $s = substr($s, length($s) / 2);
  }
}
my @parts = split /;/, $s;
(my $up = join('|', @parts)) =~ tr/a-z/A-Z/;
$ctx->add($up);
printf "strings: %d parts, final length %d\n", scalar(@parts), length($up);

# 4. Regexes: captures, global matches, substitutions with code, alternations.
my $text = join "\n", map { sprintf '%s=%d %s@%s.example %s', word(), rnd() % 10000, word(), word(), word() } 1 .. $n / 5;
my %vars;
while ($text =~ /^(\w+)=(\d+) (\w+)@(\w+)\.example/mg) {
  $vars{$1} += $2;
}
(my $t2 = $text) =~ s/(\d+)/$1 * 2 + 1/ge;
my $count = () = $t2 =~ /[aeiou]{2,}/g;
my @emails = $text =~ /(\w+@\w+\.example)/g;
$ctx->add(join ',', map { "$_=$vars{$_}" } (sort keys %vars)[0 .. 99]);
$ctx->add(md5_hex($t2), $count, scalar(@emails));
printf "regex: %d vars, %d vowel runs, %d emails\n", scalar(keys %vars), $count, scalar(@emails);

# 5. Nested structures built and torn down repeatedly.
my $tree_sum = 0;
for my $round (1 .. 30) {
  my %tree;
  for my $i (1 .. 5000) {
    my $k1 = rnd() % 50;
    my $k2 = rnd() % 50;
    push @{ $tree{$k1}{$k2} }, [ $i, word(), { id => $i, tag => word() } ];
  }
  for my $k1 (sort { $a <=> $b } keys %tree) {
    for my $k2 (sort { $a <=> $b } keys %{ $tree{$k1} }) {
      $tree_sum += $_->[0] + length($_->[1]) + length($_->[2]{tag}) for @{ $tree{$k1}{$k2} };
    }
  }
}
$ctx->add($tree_sum);
printf "trees: sum %d\n", $tree_sum;

print "digest: ", $ctx->hexdigest, "\n";

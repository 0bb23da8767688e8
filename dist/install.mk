# SPDX-License-Identifier: GPL-2.0
# make install / make uninstall, and the man pages. Included by the top
# Makefile.
#
#   make install [DESTDIR=...] [PREFIX=/usr/local] [sysconfdir=/etc]
#   make uninstall (same variables)
#
# Installs xntsd, xntsctl, the man pages xntsd(8), xntsctl(8), ntp.toml(5),
# the systemd unit, the sysusers.d, tmpfiles.d and modules-load.d (tls, for
# kTLS) entries, and a default
# $(sysconfdir)/xnts/ntp.toml unless one exists. No BPF object is installed:
# the XDP programs are built into xntsd (libbpf skeletons embed them), and
# kmod/xnts_siv.ko is built against a target kernel separately (make kmod).
# Without DESTDIR, install also creates the xnts user and the directories
# (systemd-sysusers, systemd-tmpfiles) and reloads systemd, when present.

PREFIX ?= /usr/local
sysconfdir ?= /etc
bindir ?= $(PREFIX)/bin
sbindir ?= $(PREFIX)/sbin
mandir ?= $(PREFIX)/share/man
unitdir ?= $(PREFIX)/lib/systemd/system
sysusersdir ?= $(PREFIX)/lib/sysusers.d
tmpfilesdir ?= $(PREFIX)/lib/tmpfiles.d
modulesloaddir ?= $(PREFIX)/lib/modules-load.d

# Man pages are rendered from Documentation/*.N.md at build time (tools/md2man).
MAN_PAGES := $(BUILD)/man/xntsd.8 $(BUILD)/man/xntsctl.8 $(BUILD)/man/ntp.toml.5

$(BUILD)/man/%: Documentation/%.md tools/md2man
	@mkdir -p $(@D)
	tools/md2man $< > $@.tmp
	mv $@.tmp $@

# ntp.toml(5) includes the whole configuration reference.
$(BUILD)/man/ntp.toml.5: Documentation/configuration.md

$(BUILD)/dist/xntsd.service: dist/xntsd.service.in FORCE
	@mkdir -p $(@D)
	sed -e 's|@SBINDIR@|$(sbindir)|g' -e 's|@SYSCONFDIR@|$(sysconfdir)|g' $< > $@.tmp
	mv $@.tmp $@

.PHONY: install uninstall man FORCE
FORCE:
man: $(MAN_PAGES)
ALL += $(MAN_PAGES)

install: $(BUILD)/xntsd $(BUILD)/xntsctl $(MAN_PAGES) $(BUILD)/dist/xntsd.service
	install -d $(DESTDIR)$(sbindir) $(DESTDIR)$(bindir) $(DESTDIR)$(mandir)/man8 \
		$(DESTDIR)$(mandir)/man5 $(DESTDIR)$(unitdir) $(DESTDIR)$(sysusersdir) \
		$(DESTDIR)$(tmpfilesdir) $(DESTDIR)$(modulesloaddir) $(DESTDIR)$(sysconfdir)/xnts
	install -m 755 $(BUILD)/xntsd $(DESTDIR)$(sbindir)/xntsd
	install -m 755 $(BUILD)/xntsctl $(DESTDIR)$(bindir)/xntsctl
	install -m 644 $(BUILD)/man/xntsd.8 $(BUILD)/man/xntsctl.8 $(DESTDIR)$(mandir)/man8/
	install -m 644 $(BUILD)/man/ntp.toml.5 $(DESTDIR)$(mandir)/man5/
	install -m 644 $(BUILD)/dist/xntsd.service $(DESTDIR)$(unitdir)/xntsd.service
	install -m 644 dist/sysusers.conf $(DESTDIR)$(sysusersdir)/xnts.conf
	install -m 644 dist/tmpfiles.conf $(DESTDIR)$(tmpfilesdir)/xnts.conf
	install -m 644 dist/modules-load.conf $(DESTDIR)$(modulesloaddir)/xnts.conf
	@if [ -e $(DESTDIR)$(sysconfdir)/xnts/ntp.toml ]; then \
		echo "install: keeping the existing $(DESTDIR)$(sysconfdir)/xnts/ntp.toml"; \
	else \
		echo "install -m 644 dist/ntp.toml $(DESTDIR)$(sysconfdir)/xnts/ntp.toml"; \
		install -m 644 dist/ntp.toml $(DESTDIR)$(sysconfdir)/xnts/ntp.toml; \
	fi
	@if [ -z "$(DESTDIR)" ]; then \
		if command -v systemd-sysusers >/dev/null; then \
			systemd-sysusers $(sysusersdir)/xnts.conf; fi; \
		if command -v systemd-tmpfiles >/dev/null; then \
			systemd-tmpfiles --create $(tmpfilesdir)/xnts.conf; fi; \
		if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi; \
	fi

# The configuration goes only if it is still the shipped one; the xnts user,
# /var/lib/xnts (the NTS keys) and /run/xnts are left to the administrator.
uninstall:
	rm -f $(DESTDIR)$(sbindir)/xntsd $(DESTDIR)$(bindir)/xntsctl \
		$(DESTDIR)$(mandir)/man8/xntsd.8 $(DESTDIR)$(mandir)/man8/xntsctl.8 \
		$(DESTDIR)$(mandir)/man5/ntp.toml.5 $(DESTDIR)$(unitdir)/xntsd.service \
		$(DESTDIR)$(sysusersdir)/xnts.conf $(DESTDIR)$(tmpfilesdir)/xnts.conf \
		$(DESTDIR)$(modulesloaddir)/xnts.conf
	@f=$(DESTDIR)$(sysconfdir)/xnts/ntp.toml; \
	if [ -e $$f ] && ! cmp -s $$f dist/ntp.toml; then \
		echo "uninstall: $$f was changed; keeping it"; \
	else \
		rm -f $$f; rmdir $(DESTDIR)$(sysconfdir)/xnts 2>/dev/null || true; \
	fi
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi

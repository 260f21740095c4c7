{{/* The optional frostd-compatible relay (relay.enabled): names, certificate, cross-field checks. */}}
{{- define "frost.relay.name" -}}{{ include "frost.fullname" . }}-relay{{- end -}}

{{/* kubernetes.io/tls Secret of the relay's server certificate. */}}
{{- define "frost.relay.tlsSecret" -}}{{ .Values.relay.tls.secretName | default (printf "%s-tls" (include "frost.relay.name" .)) }}{{- end -}}

{{/* DNS names of the relay's certificate (JSON list): its Service names, the ingress host, extra names. */}}
{{- define "frost.relay.dnsNames" -}}
{{- $name := include "frost.relay.name" . -}}
{{- $names := list $name (printf "%s.%s.svc" $name .Release.Namespace) (printf "%s.%s.svc.cluster.local" $name .Release.Namespace) -}}
{{- if .Values.relay.ingress.host -}}{{- $names = append $names .Values.relay.ingress.host -}}{{- end -}}
{{- range .Values.relay.tls.dnsNames -}}{{- $names = append $names . -}}{{- end -}}
{{- $names | uniq | toJson -}}
{{- end -}}

{{/* Issuer of the relay's certificate (JSON): relay.tls.issuerRef, else the deployment CA's. */}}
{{- define "frost.relay.issuer" -}}
{{- if .Values.relay.tls.issuerRef.name -}}{{- .Values.relay.tls.issuerRef | toJson -}}{{- else -}}{{- include "frost.issuer.deployment" . -}}{{- end -}}
{{- end -}}

{{/* Cross-field checks of the relay values; each fails the render with what to set. */}}
{{- define "frost.relay.validate" -}}
{{- $r := .Values.relay -}}
{{- if and (gt (int $r.replicas) 1) (ne $r.store.kind "redis") -}}
{{- fail (printf "relay.replicas (%v) > 1 needs relay.store.kind=redis: the memory store lives in one process, and replicas would each hold other sessions" $r.replicas) -}}
{{- end -}}
{{- if and (eq $r.store.kind "redis") (not $r.store.redis.url) (not $r.store.redis.existingSecret) -}}
{{- fail "relay.store.kind=redis needs relay.store.redis.url (redis://host:6379) or relay.store.redis.existingSecret (a Secret with key `url`, for an address with a password)" -}}
{{- end -}}
{{- if and $r.store.redis.url (regexMatch "^rediss?://[^/]*:[^/@]*@" $r.store.redis.url) -}}
{{- fail "relay.store.redis.url must not carry a password (it would sit in the Deployment): put the URL in a Secret and name it in relay.store.redis.existingSecret" -}}
{{- end -}}
{{- if and $r.ingress.enabled (not $r.ingress.host) -}}
{{- fail "relay.ingress.enabled needs relay.ingress.host, the name frost-client users are given (the relay's certificate names it)" -}}
{{- end -}}
{{- if and (not .Values.certManager.enabled) (not $r.tls.secretName) -}}
{{- fail (printf "relay.tls.secretName is required without cert-manager: a kubernetes.io/tls Secret whose certificate is a leaf naming the host clients use (or set certManager.enabled=true to have %s-tls issued)" (include "frost.relay.name" .)) -}}
{{- end -}}
{{- $grace := sub (sub (int $r.terminationGracePeriodSeconds) (int $r.shutdownDelaySeconds)) 5 -}}
{{- if lt $grace 2 -}}
{{- fail (printf "relay.terminationGracePeriodSeconds (%v) must be at least shutdownDelaySeconds (%v) + 7" $r.terminationGracePeriodSeconds $r.shutdownDelaySeconds) -}}
{{- end -}}
{{- end -}}

"""Fast rendering of a `Scene` through a `Camera` with numpy and OpenCV.

Per frame:

1. one ray per pixel (world direction); the sky panorama is sampled by direction, the ground
   (or the room's floor, walls and ceiling) by ray–plane intersection, with mip-mapping by texel
   footprint and distance fog;
2. depth of field on that background: blurred copies blended by each pixel's circle of confusion;
3. every visible `Layer` (a textured rectangle) is warped into its screen bounding box with one
   homography (`cv2.warpPerspective`), fogged, blurred by its own circle of confusion, and
   composited back to front (shadow decals first, then objects by distance);
4. camera "film": exposure, tint, saturation, contrast, vignette, sensor noise.

`render_frame` can also return the subject's coverage mask (occlusion included), which tests and
labels use to measure the subject's size in frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from cinestudio.camerasim.camera import Camera
from cinestudio.camerasim.scene import SKY_ELEV, Layer, Scene

NEAR = 0.01
MIN_COC = 0.7  # pixels: below this, no blur


@dataclass
class FrameInfo:
    subject_visible_px: float = 0.0


class Renderer:
    """Holds per-size pixel grids; renders frames of any scene at that size."""

    def __init__(self, width: int, height: int):
        self.width, self.height = int(width), int(height)
        ys, xs = np.mgrid[0:self.height, 0:self.width].astype(np.float32)
        self.gx = xs - (self.width - 1) / 2.0
        self.gy = ys - (self.height - 1) / 2.0
        r = np.sqrt((self.gx / (self.width / 2)) ** 2 + (self.gy / (self.height / 2)) ** 2) / math.sqrt(2)
        self.radius = r.astype(np.float32)

    # -- background ----------------------------------------------------------------------------
    def _rays(self, cam: Camera):
        m = cam.c2w().astype(np.float32)
        f = cam.focal_px(self.width)
        a = self.gx / f
        b = -self.gy / f
        dx = m[0, 0] * a + m[0, 1] * b + m[0, 2]
        dy = m[1, 0] * a + m[1, 1] * b + m[1, 2]
        dz = m[2, 0] * a + m[2, 1] * b + m[2, 2]
        return dx, dy, dz, f

    def _sky(self, scene: Scene, dx, dy, dz) -> np.ndarray:
        hp, wp = scene.sky.shape[:2]
        win = scene.sky_window
        az0, span = (win.az0, win.span) if win is not None else (0.0, 2 * math.pi)
        lo, hi = win.el if win is not None else SKY_ELEV
        full = span >= 2 * math.pi - 1e-6
        az = np.arctan2(dx, dz)
        el = np.arctan2(dy, np.sqrt(dx * dx + dz * dz))
        mx = _wrap(az - np.float32(az0), 2 * math.pi) * np.float32(wp / span) - np.float32(0.5)
        if not full:
            # outside the window (should not happen): clamp to its nearer edge
            over = mx > wp + (2 * math.pi - span) * wp / span / 2
            mx = np.where(over, -0.5, np.minimum(mx, wp - 0.5))
        my = np.clip((hi - el * np.float32(180 / math.pi)) * np.float32(hp / (hi - lo)) - 0.5, 0, hp - 1.01)
        return cv2.remap(scene.sky, mx.astype(np.float32), my.astype(np.float32), cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_WRAP if full else cv2.BORDER_REPLICATE)

    @staticmethod
    def _sample_tiled(levels, u_m, v_m, tile_m, lod) -> np.ndarray:
        """Sample a tiled texture pyramid at metric coordinates with per-pixel level of detail
        (trilinear: two bilinear lookups in a padded atlas of all levels, blended)."""
        atlas, offs, pad = _atlas(levels)
        n = len(levels)
        s0 = levels[0].shape[0]
        fu = _wrap(u_m * np.float32(s0 / tile_m), s0)
        fv = _wrap(v_m * np.float32(s0 / tile_m), s0)
        lod = np.clip(lod, 0, n - 1).astype(np.float32, copy=False)
        l0 = np.floor(lod)
        if float(lod.max()) < 0.02:
            return cv2.remap(atlas, fu + (pad - 0.5), fv + (pad - 0.5), cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REPLICATE)
        l0i = l0.astype(np.int32)
        l1i = np.minimum(l0i + 1, n - 1)
        frac = _rep(lod - l0, atlas.shape[2])
        offs_arr = np.asarray(offs, np.float32) + np.float32(pad - 0.5)
        imgs = []
        for li in (l0i, l1i):
            sc = np.exp2(-li.astype(np.float32))
            mx = fu * sc
            mx += np.take(offs_arr, li)
            my = fv * sc
            my += np.float32(pad - 0.5)
            imgs.append(cv2.remap(atlas, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE))
        a, b = imgs
        b -= a
        b *= frac
        b += a
        return b

    def _ground(self, scene: Scene, cam: Camera, dx, dy, dz, f, sel, tile_levels, tile_m):
        """Colour, camera depth and distance of the ground seen by rays (dx, dy, dz) where `sel`."""
        cx, cy, cz = cam.position
        cy = max(float(cy), 1e-3)  # a camera never sits below the ground
        t = (np.float32(-cy) / np.where(sel, dy, np.float32(-1.0))).astype(np.float32)
        gx = t * dx + np.float32(cx)
        gz = t * dz + np.float32(cz)
        dn = np.sqrt(dx * dx + dy * dy + dz * dz)
        # texel footprint: distance over focal, stretched by the grazing angle (geometric mean)
        k = np.float32(tile_levels[0].shape[0] / tile_m / f)
        foot = t * k * np.sqrt(dn / np.maximum(np.abs(dy), np.float32(1e-4)))
        lod = np.log2(np.maximum(foot, np.float32(1.0)))
        col = self._sample_tiled(tile_levels, gx, gz, tile_m, lod)
        ov = scene.ground_overlay
        if ov is not None:
            (x0, z0, res), omap = ov
            inv = np.float32(1.0 / res)
            mod = cv2.remap(omap, gx * inv - np.float32(x0 / res + 0.5), gz * inv - np.float32(z0 / res + 0.5),
                            cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(1.0, 1.0, 1.0))
            col *= mod
        return col, t, t * dn

    def background(self, scene: Scene, cam: Camera):
        """Colour (H, W, 3) float32 and camera depth (H, W) (inf for the sky)."""
        dx, dy, dz, f = self._rays(cam)
        H, W = self.height, self.width
        if scene.room is not None:
            return self._room(scene, cam, dx, dy, dz, f)
        ground = dy < -1e-6
        depth = np.full((H, W), np.inf, np.float32)
        img = np.empty((H, W, 3), np.float32)
        gr, gc = ground.any(axis=1), ground.any(axis=0)
        if not ground.all():
            sr, scl = ~ground.all(axis=1), ~ground.all(axis=0)
            r0, r1 = _span(sr)
            c0, c1 = _span(scl)
            img[r0:r1, c0:c1] = self._sky(scene, dx[r0:r1, c0:c1], dy[r0:r1, c0:c1], dz[r0:r1, c0:c1])
        if gr.any():
            r0, r1 = _span(gr)
            c0, c1 = _span(gc)
            g = ground[r0:r1, c0:c1]
            col, t, dist = self._ground(scene, cam, dx[r0:r1, c0:c1], dy[r0:r1, c0:c1], dz[r0:r1, c0:c1], f, g,
                                        scene.ground_levels, scene.ground_tile_m)
            fog = 1.0 - np.exp(dist * np.float32(-1.0 / scene.fog_distance))
            col += _rep(fog) * (scene.fog_colour - col)
            if g.all():
                img[r0:r1, c0:c1] = col
                depth[r0:r1, c0:c1] = t
            else:
                sub = img[r0:r1, c0:c1]
                sub[g] = col[g]
                depth[r0:r1, c0:c1][g] = t[g]
                img = _soften_seams(img, ground.astype(np.uint8))
        return img, depth

    def _room(self, scene: Scene, cam: Camera, dx, dy, dz, f):
        """A box room seen from inside: floor (tiled like the ground), walls, ceiling."""
        x0, x1, y0, y1, z0, z1 = scene.room.bounds
        cx, cy, cz = cam.position
        big = np.float32(1e9)
        with np.errstate(divide="ignore", invalid="ignore"):
            tx_ = np.where(dx > 1e-9, (x1 - cx) / dx, np.where(dx < -1e-9, (x0 - cx) / dx, big)).astype(np.float32)
            ty_ = np.where(dy > 1e-9, (y1 - cy) / dy, np.where(dy < -1e-9, (y0 - cy) / dy, big)).astype(np.float32)
            tz_ = np.where(dz > 1e-9, (z1 - cz) / dz, np.where(dz < -1e-9, (z0 - cz) / dz, big)).astype(np.float32)
        t = np.maximum(np.minimum(np.minimum(tx_, ty_), tz_), np.float32(1e-4))
        img = np.zeros((self.height, self.width, 3), np.float32)
        yfirst = (ty_ <= tx_) & (ty_ <= tz_)
        floor = yfirst & (dy < 0)
        ceil = yfirst & (dy > 0)
        xwall = (tx_ < ty_) & (tx_ <= tz_)
        zwall = ~(yfirst | xwall)
        if floor.any():
            r0, r1, c0, c1 = _bbox(floor)
            sl = (slice(r0, r1), slice(c0, c1))
            m = floor[sl]
            col, _, _ = self._ground(scene, cam, dx[sl], dy[sl], dz[sl], f, m, scene.ground_levels,
                                     scene.ground_tile_m)
            img[sl][m] = col[m]
        if ceil.any():
            dn = np.sqrt(dx[ceil] ** 2 + dy[ceil] ** 2 + dz[ceil] ** 2)
            shade = (0.85 + 0.15 * np.clip(1 - dy[ceil] / dn, 0, 1))[:, None]
            img[ceil] = scene.room.ceiling_colour * shade
        for sel, wall_index in ((xwall, 0), (zwall, 1)):
            if not sel.any():
                continue
            r0, r1, c0, c1 = _bbox(sel)
            sl = (slice(r0, r1), slice(c0, c1))
            m = sel[sl]
            sdx, sdy, sdz, st = dx[sl], dy[sl], dz[sl], t[sl]
            along = (st * sdz + np.float32(cz)) if wall_index == 0 else (st * sdx + np.float32(cx))
            height = st * sdy + np.float32(cy)
            normal_axis = sdx if wall_index == 0 else sdz
            levels = scene.room.wall_levels[wall_index]
            tile = scene.room.wall_tile_m[wall_index]
            dn = np.sqrt(sdx * sdx + sdy * sdy + sdz * sdz)
            k = np.float32(levels[0].shape[0] / tile / f)
            foot = st * k * np.sqrt(dn / np.maximum(np.abs(normal_axis), np.float32(1e-3)))
            lod = np.where(m, np.log2(np.maximum(foot, np.float32(1.0))), np.float32(0.0))
            col = self._sample_tiled(levels, along, -height, tile, lod)
            img[sl][m] = col[m]
        face = floor.astype(np.uint8) + 2 * ceil.astype(np.uint8) + 3 * xwall.astype(np.uint8)
        return _soften_seams(img, face), t

    # -- depth of field ------------------------------------------------------------------------
    @staticmethod
    def _coc(cam: Camera, depth, width: int):
        aperture = cam.focal_mm / 1000.0 / cam.f_number
        inv = np.where(np.isfinite(depth), 1.0 / np.maximum(depth, 1e-3), 0.0)
        return aperture * cam.focal_px(width) * np.abs(1.0 / max(cam.focus_m, 1e-3) - inv)

    def _defocus_background(self, img, coc):
        cmax = float(coc.max())
        if cmax < MIN_COC:
            return img
        sig = coc / 2.5
        levels = [0.0]
        s = 0.5
        while s < cmax / 2.5 * 1.5:
            levels.append(s)
            s *= 1.8
        blurred = [img] + [blur(img, lv) for lv in levels[1:]]
        out = np.zeros_like(img)
        for i, lv in enumerate(levels):
            lo = levels[i - 1] if i > 0 else None
            hi = levels[i + 1] if i + 1 < len(levels) else None
            w = np.zeros_like(sig)
            if lo is not None:
                m = (sig >= lo) & (sig <= lv)
                w = np.where(m, (sig - lo) / (lv - lo), w)
            else:
                w = np.where(sig <= lv, 1.0, w)
            if hi is not None:
                m = (sig > lv) & (sig < hi)
                w = np.where(m, (hi - sig) / (hi - lv), w)
            else:
                w = np.where(sig > lv, 1.0, w)
            if w.any():
                out += blurred[i] * _rep(w.astype(np.float32))
        return out

    # -- layers --------------------------------------------------------------------------------
    def _draw_layer(self, canvas, mask, layer: Layer, pc, K, x0, y0, x1, y1, lv: int, clip_uv, weight: float,
                    fog_f: float, fog_colour, sigma: float, subject: bool):
        tex = layer.levels[lv]
        lh, lw = tex.shape[:2]
        ru = (pc[1] - pc[0]) / lw
        rv = (pc[3] - pc[0]) / lh
        o = pc[0] + 0.5 * ru + 0.5 * rv
        f, cx, cy = K[0, 0], K[0, 2] - x0, K[1, 2] - y0
        M = np.array([[f * ru[0] + cx * ru[2], f * rv[0] + cx * rv[2], f * o[0] + cx * o[2]],
                      [f * ru[1] + cy * ru[2], f * rv[1] + cy * rv[2], f * o[1] + cy * o[2]],
                      [ru[2], rv[2], o[2]]])
        rw, rh = x1 - x0, y1 - y0
        warped = cv2.warpPerspective(tex, M, (rw, rh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                     borderValue=(0, 0, 0, 0))
        if clip_uv is not None:
            poly = np.zeros((rh, rw), np.float32)
            cv2.fillConvexPoly(poly, np.round((clip_uv - [x0, y0]) * 16).astype(np.int32), 1.0, cv2.LINE_AA, 4)
            warped *= _rep(poly, 4)
        if weight < 0.999 or fog_f > 0.003:
            # fade and fog in one colour transform of the premultiplied RGBA
            k = weight * (1.0 - fog_f)
            m = np.zeros((4, 4), np.float32)
            m[0, 0] = m[1, 1] = m[2, 2] = k
            m[:3, 3] = weight * fog_f * np.asarray(fog_colour, np.float32)
            m[3, 3] = weight
            warped = cv2.transform(warped, m)
        if sigma > 0:
            warped = blur(warped, sigma)
        r, g, b, a = cv2.split(warped)
        inv = 1.0 - a
        for c, plane in enumerate((r, g, b)):
            roi = canvas[c, y0:y1, x0:x1]
            roi *= inv
            roi += plane
        if mask is not None:
            mroi = mask[y0:y1, x0:x1]
            mroi *= inv
            if subject:
                mroi += a

    def render(self, scene: Scene, cam: Camera, frame: int = 0, time_s: float = 0.0,
               subject_offset: np.ndarray | None = None, want_mask: bool = False,
               noise: np.ndarray | None = None):
        """Render one frame: (uint8 RGB (H, W, 3), subject mask float32 (H, W) or None)."""
        W, H = self.width, self.height
        img, depth = self.background(scene, cam)
        coc = self._coc(cam, depth, W)
        img = np.ascontiguousarray(self._defocus_background(img, coc), dtype=np.float32)
        mask = np.zeros((H, W), np.float32) if want_mask else None
        tab = _table(scene)
        if tab.n:
            canvas = np.ascontiguousarray(img.transpose(2, 0, 1))  # channel planes: fast compositing
            self._draw_layers(scene, tab, cam, frame, time_s, canvas, mask)
            img = cv2.merge([canvas[0], canvas[1], canvas[2]])
        out = self._post(scene, img, noise)
        return out, mask

    def _draw_layers(self, scene: Scene, tab: "_LayerTable", cam: Camera, frame: int, time_s: float, img, mask):
        W, H = self.width, self.height
        K = cam.intrinsics(W, H)
        R = cam.rotation()
        t = -R @ np.asarray(cam.position, float)
        cpos = np.asarray(cam.position, float)
        G = len(scene.groups)
        offs = np.zeros((G, 3))
        pose = np.zeros(G, int)
        for gi in tab.moving:
            g = scene.groups[gi]
            mv = scene.movers[g.mover]
            off = mv.offset(frame, time_s)
            offs[gi] = off
            if len(g.poses) > 1:
                dist = float(np.linalg.norm(np.asarray(off)[[0, 2]]))
                cyc = dist / max(mv.stride_m, 1e-6) + mv.phase0
                pose[gi] = int(math.floor(cyc * len(g.poses))) % len(g.poses)
        gd = tab.anchors + offs - cpos
        gdist = np.linalg.norm(gd, axis=1)
        fp = tab.fade_points + offs - cpos
        elev = np.degrees(np.arctan2(-fp[:, 1], np.maximum(np.hypot(fp[:, 0], fp[:, 2]), 1e-6)))
        sel = tab.is_decal | (tab.pose == pose[tab.group])
        if cpos[1] <= 0.005:
            sel &= ~tab.is_decal
        corners = tab.corners + offs[tab.group][:, None, :]
        facing = np.einsum("ij,ij->i", cpos - corners[:, 0], tab.normals)
        sel &= (~tab.has_normal) | (facing > 0)
        e = elev[tab.group]
        s = np.clip((e - tab.fade_lo) / np.maximum(tab.fade_hi - tab.fade_lo, 1e-6), 0, 1)
        s = s * s * (3 - 2 * s)
        weight = np.where(tab.has_fade, np.where(tab.fade_above, s, 1 - s), 1.0)
        sel &= weight > 0.01
        idx = np.nonzero(sel)[0]
        if not len(idx):
            return
        pc = (corners[idx] - cpos) @ R.T  # (n, 4, 3)
        z = pc[..., 2]
        front = (z > NEAR).all(axis=1)
        anyfront = (z > NEAR).any(axis=1)
        zs = np.where(z > NEAR, z, 1.0)
        u = K[0, 0] * pc[..., 0] / zs + K[0, 2]
        v = K[1, 1] * pc[..., 1] / zs + K[1, 2]
        # generous margin for blur; partially-behind layers are always kept
        mg = 0.25 * max(W, H)
        onscreen = (u.max(1) > -mg) & (u.min(1) < W + mg) & (v.max(1) > -mg) & (v.min(1) < H + mg)
        keep = anyfront & (~front | onscreen)
        idx, pc = idx[keep], pc[keep]
        if not len(idx):
            return
        u, v, front = u[keep], v[keep], front[keep]
        n = len(idx)
        # per layer: depth of field, fog, mip level and screen box, all at once
        zc = pc[..., 2].mean(axis=1)
        aperture = cam.focal_mm / 1000.0 / cam.f_number
        fpx = K[0, 0]
        coc = aperture * fpx * np.abs(1.0 / max(cam.focus_m, 1e-3) - 1.0 / np.maximum(zc, NEAR))
        sigma = np.where(coc >= MIN_COC, coc / 2.5, 0.0)
        pad = np.ceil(2.5 * sigma).astype(int) + 1
        dist = np.linalg.norm(pc.mean(axis=1), axis=1)
        if scene.fog_distance < 1e8:
            fog = np.where(tab.fog[idx], 1.0 - np.exp(-dist / scene.fog_distance), 0.0)
        else:
            fog = np.zeros(n)
        pw = np.maximum(np.hypot(u[:, 1] - u[:, 0], v[:, 1] - v[:, 0]), np.hypot(u[:, 2] - u[:, 3], v[:, 2] - v[:, 3]))
        ph = np.maximum(np.hypot(u[:, 3] - u[:, 0], v[:, 3] - v[:, 0]), np.hypot(u[:, 2] - u[:, 1], v[:, 2] - v[:, 1]))
        ratio = np.sqrt(tab.tex_w[idx] / np.maximum(pw, 1e-3) * (tab.tex_h[idx] / np.maximum(ph, 1e-3)))
        lv = np.minimum(np.floor(np.log2(np.maximum(ratio, 1.0))).astype(int), tab.n_levels[idx] - 1)
        lv = np.where(front, lv, 0)
        x0 = np.maximum(np.floor(u.min(1)).astype(int) - pad, 0)
        y0 = np.maximum(np.floor(v.min(1)).astype(int) - pad, 0)
        x1 = np.minimum(np.ceil(u.max(1)).astype(int) + pad + 1, W)
        y1 = np.minimum(np.ceil(v.max(1)).astype(int) + pad + 1, H)
        order = np.lexsort((tab.order[idx], -gdist[tab.group[idx]], ~tab.is_decal[idx]))
        fogc = scene.fog_colour
        for j in order:
            i = idx[j]
            clip_uv = None
            bx0, by0, bx1, by1 = int(x0[j]), int(y0[j]), int(x1[j]), int(y1[j])
            if not front[j]:
                cl = _clip_near(pc[j])
                if len(cl) < 3:
                    continue
                clip_uv = np.stack([K[0, 0] * cl[:, 0] / cl[:, 2] + K[0, 2], K[1, 1] * cl[:, 1] / cl[:, 2] + K[1, 2]], 1)
                p = int(pad[j])
                bx0 = max(int(math.floor(clip_uv[:, 0].min())) - p, 0)
                by0 = max(int(math.floor(clip_uv[:, 1].min())) - p, 0)
                bx1 = min(int(math.ceil(clip_uv[:, 0].max())) + p + 1, W)
                by1 = min(int(math.ceil(clip_uv[:, 1].max())) + p + 1, H)
            if bx1 <= bx0 or by1 <= by0:
                continue
            self._draw_layer(img, mask, tab.layers[i], pc[j], K, bx0, by0, bx1, by1, int(lv[j]), clip_uv,
                             float(weight[i]), float(fog[j]), fogc, float(sigma[j]),
                             bool(tab.subject[i]) and not tab.is_decal[i])

    def _post(self, scene: Scene, img: np.ndarray, noise: np.ndarray | None) -> np.ndarray:
        p = scene.post
        if p.softness > 0:
            img = cv2.GaussianBlur(img, (0, 0), p.softness)
        # exposure and tint, saturation, contrast: one affine colour transform
        d = np.diag(np.asarray(p.tint, np.float64) * p.exposure)
        w = np.array([[0.299, 0.587, 0.114]])
        sat = p.saturation * np.eye(3) + (1 - p.saturation) * np.ones((3, 1)) @ w
        m = p.contrast * sat @ d
        b = np.full((3, 1), 0.5 * (1 - p.contrast))
        img = cv2.transform(img, np.hstack([m, b]).astype(np.float32))
        if p.vignette > 0:
            vig = self._vignette(p.vignette)
            img *= vig
        if noise is not None:
            img += noise
        np.clip(img, 0.0, 1.0, out=img)
        img *= 255.0
        img += 0.5
        out = img.astype(np.uint8)
        if p.gamma != 1.0:
            out = cv2.LUT(out, _gamma_lut(round(p.gamma, 3)))
        return out

    def _vignette(self, strength: float) -> np.ndarray:
        key = round(strength, 3)
        cache = self.__dict__.setdefault("_vig", {})
        v = cache.get(key)
        if v is None:
            if len(cache) > 64:
                cache.clear()
            v = cache[key] = np.repeat((1.0 - key * self.radius ** 2)[..., None], 3, axis=2).astype(np.float32)
        return v


_GAMMA: dict = {}


def _gamma_lut(g: float) -> np.ndarray:
    lut = _GAMMA.get(g)
    if lut is None:
        x = np.arange(256, dtype=np.float64) / 255.0
        lut = _GAMMA[g] = np.clip(x ** (1.0 / g) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return lut


_ATLASES: dict = {}


def _atlas(levels) -> tuple:
    """All levels of a square tiled pyramid side by side, each padded with its own wrap-around."""
    key = id(levels)
    hit = _ATLASES.get(key)
    if hit is not None and hit[0] is levels:
        return hit[1]
    pad = 2
    s0 = levels[0].shape[0]
    width = sum(lv.shape[1] + 2 * pad for lv in levels)
    ch = levels[0].shape[2] if levels[0].ndim == 3 else 1
    atlas = np.zeros((s0 + 2 * pad, width, ch), np.float32)
    offs = []
    x = 0
    for lv in levels:
        p = np.pad(lv if lv.ndim == 3 else lv[..., None], ((pad, pad), (pad, pad), (0, 0)), mode="wrap")
        atlas[:p.shape[0], x:x + p.shape[1]] = p
        offs.append(float(x))
        x += p.shape[1]
    if len(_ATLASES) > 32:
        _ATLASES.clear()
    res = (atlas, offs, pad)
    _ATLASES[key] = (levels, res)
    return res


def _wrap(x: np.ndarray, period: float) -> np.ndarray:
    """x modulo period into [0, period) (float32; much faster than np.mod)."""
    x = np.asarray(x, np.float32)
    return x - np.floor(x * np.float32(1.0 / period)) * np.float32(period)


def _rep(a: np.ndarray, n: int = 3) -> np.ndarray:
    """(H, W) -> (H, W, n) copies (faster to combine with an (H, W, n) image than a[..., None])."""
    return cv2.merge([a] * n)


def _soften_seams(img: np.ndarray, label: np.ndarray) -> np.ndarray:
    """Anti-alias the hard edges between regions of `label` (room faces, ground and sky): the
    pixels on a seam take a 3x3 average, so edges move smoothly instead of jumping a pixel."""
    seam = cv2.dilate(label, np.ones((2, 2), np.uint8)) != cv2.erode(label, np.ones((2, 2), np.uint8))
    if seam.any():
        img[seam] = cv2.blur(img, (3, 3))[seam]
    return img


def _bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    r0, r1 = _span(mask.any(axis=1))
    c0, c1 = _span(mask.any(axis=0))
    return r0, r1, c0, c1


def _span(flags: np.ndarray) -> tuple[int, int]:
    idx = np.flatnonzero(flags)
    return int(idx[0]), int(idx[-1]) + 1


def blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian-like blur whose cost does not grow with sigma (stack blur for large radii)."""
    if sigma < 2.0:
        return cv2.GaussianBlur(img, (0, 0), sigma)
    r = max(1, int(round(2.45 * sigma - 1)))
    k = 2 * r + 1
    return cv2.stackBlur(img, (k, k))


class _LayerTable:
    """All layers of a scene as arrays, so culling and sorting run vectorised per frame."""

    def __init__(self, scene: Scene):
        layers, group, pose, order, decal = [], [], [], [], []
        for gi, g in enumerate(scene.groups):
            for dl in g.decals:
                layers.append(dl); group.append(gi); pose.append(-1); order.append(-1); decal.append(True)
            for pi, pl in enumerate(g.poses):
                for li, layer in enumerate(pl):
                    layers.append(layer); group.append(gi); pose.append(pi); order.append(li); decal.append(False)
        self.n = len(layers)
        self.layers = layers
        self.group = np.array(group, int)
        self.pose = np.array(pose, int)
        self.order = np.array(order, int)
        self.is_decal = np.array(decal, bool)
        self.corners = np.array([ly.corners for ly in layers], float).reshape(-1, 4, 3)
        self.has_normal = np.array([ly.normal is not None for ly in layers], bool)
        self.normals = np.array([ly.normal if ly.normal is not None else np.zeros(3) for ly in layers],
                                float).reshape(-1, 3)
        self.has_fade = np.array([ly.fade is not None for ly in layers], bool)
        self.fade_lo = np.array([ly.fade[0] if ly.fade else 0.0 for ly in layers], float)
        self.fade_hi = np.array([ly.fade[1] if ly.fade else 1.0 for ly in layers], float)
        self.fade_above = np.array([bool(ly.fade[2]) if ly.fade else False for ly in layers], bool)
        self.subject = np.array([scene.groups[g].subject for g in group], bool)
        self.anchors = np.array([g.anchor for g in scene.groups], float).reshape(-1, 3)
        self.fade_points = np.array([g.fade_point if g.fade_point is not None else g.anchor
                                     for g in scene.groups], float).reshape(-1, 3)
        self.moving = [gi for gi, g in enumerate(scene.groups) if g.mover is not None]
        self.fog = np.array([ly.fog for ly in layers], bool)
        self.tex_w = np.array([ly.levels[0].shape[1] for ly in layers], float)
        self.tex_h = np.array([ly.levels[0].shape[0] for ly in layers], float)
        self.n_levels = np.array([len(ly.levels) for ly in layers], int)


def _table(scene: Scene) -> _LayerTable:
    tab = getattr(scene, "_layer_table", None)
    if tab is None:
        tab = _LayerTable(scene)
        scene._layer_table = tab
    return tab


def _clip_near(pc: np.ndarray) -> np.ndarray:
    """Clip a polygon (camera coordinates) to z > NEAR (Sutherland–Hodgman)."""
    out = []
    n = len(pc)
    for i in range(n):
        a, b = pc[i], pc[(i + 1) % n]
        ain, bin_ = a[2] > NEAR, b[2] > NEAR
        if ain:
            out.append(a)
        if ain != bin_:
            s = (NEAR - a[2]) / (b[2] - a[2])
            p = a + (b - a) * s
            p[2] = NEAR * 1.0001
            out.append(p)
    return np.array(out)
